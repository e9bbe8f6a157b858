import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execInHost, type TestHost } from './harness/hosts.js';
import { useHosts } from './harness/use-hosts.js';
import { exampleRepo, wipeTendState } from './daemon-support.js';
import { buildTend, runTend, startTend, type ScratchRepo, type TendRun } from '../support/tend-cli.js';

/**
 * Issue 15 items 2 and 3 end to end: the operator's `tend logs`, `--limit` and `plan --diff`, through the
 * real binary against the three systemd hosts (web-1 = host-1, web-2 = host-2, batch-1 = host-3).
 */

const SECRET = 'e2e-operator-secret-7d21';

let hosts: TestHost[];
let secretsDir: string;
let repo: ScratchRepo;

function host(name: 'web-1' | 'web-2' | 'batch-1'): TestHost {
  const found = hosts[{ 'web-1': 0, 'web-2': 1, 'batch-1': 2 }[name]];
  if (found === undefined) throw new Error(`no test host for ${name}`);
  return found;
}

/** What `tend logs` takes: the repo and the key; it reads no secret. */
function connectionArgs(): string[] {
  return ['--repo', repo.dir, '--ssh-key', host('web-1').privateKeyPath];
}

function fleetArgs(): string[] {
  return [...connectionArgs(), '--secrets-dir', secretsDir];
}

function parseJson<T>(run: TendRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`tend printed no JSON (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
}

interface PlanJson {
  plan: { services: { service: string; batches: { host: string; action: string }[][]; unchanged: string[] }[]; skipped: { service: string; hosts: string[]; reason: string }[] };
  diffs?: { service: string; host: string; path: string; diff: string }[];
}

async function followersOn(target: TestHost): Promise<string> {
  // `[j]` keeps the pattern from matching the sh that runs pgrep, whose command line holds the pattern.
  const result = await execInHost(target, ['sh', '-c', 'pgrep -af "[j]ournalctl -u api.service" || true']);
  return result.stdout.trim();
}

beforeAll(async () => {
  [hosts] = await Promise.all([useHosts(3), buildTend()]);
  await Promise.all(hosts.map((target) => wipeTendState(target)));
  secretsDir = await mkdtemp(join(tmpdir(), 'tend-e2e-operator-'));
  await writeFile(join(secretsDir, 'api_token'), `${SECRET}\n`, { mode: 0o600 });
  repo = await exampleRepo();
  const first = await runTend(['apply', '--yes', ...fleetArgs()]);
  if (first.code !== 0) throw new Error(`the first apply failed (exit ${first.code}):\n${first.stdout}\n${first.stderr}`);
}, 600_000);

afterAll(async () => {
  await Promise.all((hosts ?? []).map((target) => wipeTendState(target)));
});

describe('tend logs', () => {
  it('tend logs api --host web-1 shows the unit\'s lines, each prefixed with the host', async () => {
    const run = await runTend(['logs', 'api', '--host', 'web-1', ...connectionArgs()]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^web-1 \| .*api 1\.0\.0 listening on port 8080$/m);
    for (const line of run.stdout.trimEnd().split('\n')) expect(line).toMatch(/^web-1 \| /);
  });

  it('tend logs api reads both web hosts, each line with its host', async () => {
    const run = await runTend(['logs', 'api', '--since', '1 hour ago', ...connectionArgs()]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^web-1 \| .*listening on port 8080$/m);
    expect(run.stdout).toMatch(/^web-2 \| .*listening on port 8080$/m);
  });

  it('-f follows new lines until SIGINT, then ends journalctl on the host and exits 0', async () => {
    const tend = startTend(['logs', 'api', '--host', 'web-1', '-f', ...connectionArgs()]);
    await tend.waitForStdout(/^web-1 \| .*listening on port 8080$/);
    const before = tend.output().stdout.split('\n').filter((line) => line.includes('listening on port 8080')).length;
    await execInHost(host('web-1'), ['systemctl', 'restart', 'api.service']);
    const deadline = Date.now() + 20_000;
    while (tend.output().stdout.split('\n').filter((line) => line.includes('listening on port 8080')).length <= before) {
      if (Date.now() > deadline) throw new Error(`no new line followed:\n${tend.output().stdout}`);
      await new Promise((wait) => setTimeout(wait, 200));
    }
    expect(await followersOn(host('web-1'))).not.toBe('');
    tend.kill('SIGINT');
    const run = await tend.done;
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    expect(await followersOn(host('web-1'))).toBe('');
  });

  it('-f ends once its reader is gone (`| head -1`), ending journalctl on the host, exit 0', async () => {
    const tend = startTend(['logs', 'api', '--host', 'web-1', '-f', ...connectionArgs()]);
    await tend.waitForStdout(/^web-1 \| /);
    tend.closeStdout();
    // The next line tend writes meets the closed pipe.
    await execInHost(host('web-1'), ['systemctl', 'restart', 'api.service']);
    const run = await Promise.race([tend.done, new Promise<undefined>((resolve) => setTimeout(resolve, 30_000, undefined))]);
    if (run === undefined) tend.kill('SIGKILL');
    expect(run, 'tend logs -f was still following 30 s after its reader left').toBeDefined();
    expect(run?.code, run?.stderr).toBe(0);
    expect(run?.stderr).toBe('');
    expect(await followersOn(host('web-1'))).toBe('');
  });
});

describe('--limit and --diff', () => {
  beforeAll(async () => {
    await repo.edit('services/api/spec.yml', '    API_PORT=8080\n', '    API_PORT=8080\n    FEATURE_FLAG=on\n');
  });

  it('plan --diff shows the changed lines of the env file, with the secret masked', async () => {
    const run = await runTend(['plan', 'api', '--diff', ...fleetArgs()]);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stdout).toContain('--- web-1:/etc/tend/env/api.env');
    expect(run.stdout).toContain('+FEATURE_FLAG="on"');
    expect(run.stdout).toContain(' API_TOKEN="<secret:api_token>"');
    expect(run.stdout).not.toContain(SECRET);
    const json = parseJson<PlanJson>(await runTend(['plan', 'api', '--diff', '--json', ...fleetArgs()]));
    expect(json.diffs?.map((one) => `${one.host}:${one.path}`).sort()).toEqual(['web-1:/etc/tend/env/api.env', 'web-2:/etc/tend/env/api.env']);
    expect(JSON.stringify(json)).not.toContain(SECRET);
  });

  it('apply --limit web-1 changes web-1 only; the plan then shows web-2 still pending', async () => {
    const applied = await runTend(['apply', '--yes', '--limit', 'web-1', ...fleetArgs()]);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect(applied.stdout).toContain('skipped (not in --limit):\n  api: web-2\n');
    const env1 = await execInHost(host('web-1'), ['cat', '/etc/tend/env/api.env']);
    const env2 = await execInHost(host('web-2'), ['cat', '/etc/tend/env/api.env']);
    expect(env1.stdout).toContain('FEATURE_FLAG="on"');
    expect(env2.stdout).not.toContain('FEATURE_FLAG');
    const plan = parseJson<PlanJson>(await runTend(['plan', '--json', ...fleetArgs()]));
    const api = plan.plan.services.find((one) => one.service === 'api');
    expect(api?.batches.flat().map((step) => `${step.action} ${step.host}`)).toEqual(['update web-2']);
    expect(api?.unchanged).toEqual(['web-1']);
    expect(plan.plan.skipped).toEqual([]);
  });
});
