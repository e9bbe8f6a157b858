import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeHostKey, fillFilesystem, takeLinkDown, type Fault } from './harness/faults.js';
import { execInHost, type TestHost } from './harness/hosts.js';
import { useHosts } from './harness/use-hosts.js';
import { exampleRepo, unitProperty, wipeTendState } from './daemon-support.js';
import { buildTend, runTend, ScratchRepo, startTend, type TendRun } from '../support/tend-cli.js';

/**
 * Issue 4 end to end: the real `tend` binary against three real systemd hosts over SSH, with the example
 * deploy repo. web-1 = host-1, web-2 = host-2, batch-1 = host-3 (deploy-repo-example/inventory.yml pins
 * the harness's committed host keys).
 */

interface StepJson {
  host: string;
  service: string;
  action: string;
  outcome: 'healthy' | 'failed' | 'unreachable';
  code: string;
  errorClass?: string;
  detail: string;
  lastProbe?: { ok: boolean; status?: number; error?: string; bodyExcerpt?: string };
  journal?: string;
  startedAt: number;
  endedAt: number;
}
interface ServiceJson {
  service: string;
  result: string;
  code?: string;
  steps: StepJson[];
  outcome?: { evidence: { host: string; state: string; code?: string; errorClass?: string }[] };
}
interface ApplyJson {
  ok: boolean;
  applied: boolean;
  result?: { services: ServiceJson[] };
}

let hosts: TestHost[];
let secretsDir: string;

function host(name: 'web-1' | 'web-2' | 'batch-1'): TestHost {
  const index = { 'web-1': 0, 'web-2': 1, 'batch-1': 2 }[name];
  const found = hosts[index];
  if (found === undefined) throw new Error(`no test host for ${name}`);
  return found;
}

function fleetArgs(repo: ScratchRepo): string[] {
  return ['--repo', repo.dir, '--ssh-key', host('web-1').privateKeyPath, '--secrets-dir', secretsDir];
}

async function apply(repo: ScratchRepo): Promise<{ run: TendRun; json: ApplyJson }> {
  const run = await runTend(['apply', '--yes', '--json', ...fleetArgs(repo)]);
  return { run, json: parseJson<ApplyJson>(run) };
}

function parseJson<T>(run: TendRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`tend printed no JSON (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
}

function service(json: ApplyJson, name: string): ServiceJson {
  const found = json.result?.services.find((candidate) => candidate.service === name);
  if (found === undefined) throw new Error(`no result for ${name} in ${JSON.stringify(json)}`);
  return found;
}

async function fetchText(target: TestHost, port: number, path: string): Promise<string> {
  const response = await fetch(`http://${target.address}:${port}${path}`, { signal: AbortSignal.timeout(5000) });
  return (await response.text()).trim();
}

/** How many times the journal shows this version of api starting on a host. */
async function apiStarts(target: TestHost, version: string): Promise<number> {
  const journal = await execInHost(target, ['journalctl', '-u', 'api.service', '--no-pager', '-o', 'cat']);
  return journal.stdout.split('\n').filter((line) => line === `api ${version} listening on port 8080`).length;
}

beforeAll(async () => {
  [hosts] = await Promise.all([useHosts(3), buildTend()]);
  await Promise.all(hosts.map((target) => wipeTendState(target)));
  secretsDir = await mkdtemp(join(tmpdir(), 'tend-e2e-secrets-'));
  await writeFile(join(secretsDir, 'api_token'), 'e2e-canary-secret-4c1f\n', { mode: 0o600 });
});

describe('tend apply on real hosts', () => {
  let repo: ScratchRepo;
  const apiV1 = { text: '' };

  beforeAll(async () => {
    repo = await exampleRepo();
    apiV1.text = await repo.read('services/api/api');
  });

  it('deploys the example repo to 3 hosts, after which plan shows no changes and a second apply changes nothing', async () => {
    const first = await apply(repo);
    expect(first.run.code, first.run.stderr).toBe(0);
    expect(first.json.result?.services.map((s) => [s.service, s.result])).toEqual([
      ['api', 'succeeded'],
      ['gateway', 'succeeded'],
      ['queue', 'succeeded'],
      ['reports', 'succeeded'],
    ]);
    expect(await fetchText(host('web-2'), 8080, '/version')).toBe('1.0.0');

    const plan = await runTend(['plan', ...fleetArgs(repo)]);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    expect(plan.stdout).toContain('No changes');

    const before = await Promise.all(hosts.map((target) => unitProperty(target, target.name === 'host-3' ? 'reports.service' : 'api.service', 'InvocationID')));
    const second = await apply(repo);
    expect(second.run.code).toBe(0);
    expect(second.json.applied).toBe(false);
    const after = await Promise.all(hosts.map((target) => unitProperty(target, target.name === 'host-3' ? 'reports.service' : 'api.service', 'InvocationID')));
    expect(after).toEqual(before);
  });

  it('rolls a version bump out in batches of serial, each host restarted once and gated by its probe, api before gateway', async () => {
    await repo.edit('services/api/api', 'VERSION=1.0.0', 'VERSION=1.0.1');
    const gateway = await repo.read('services/gateway/gateway');
    await repo.releaseArtifact('gateway', 'gateway', gateway.replace('VERSION=1.0.0', 'VERSION=1.0.1'));

    const { run, json } = await apply(repo);
    expect(run.code, run.stderr).toBe(0);
    const api = service(json, 'api');
    const gw = service(json, 'gateway');
    expect(api.steps.map((step) => [step.host, step.action, step.outcome])).toEqual([
      ['web-1', 'update', 'healthy'],
      ['web-2', 'update', 'healthy'],
    ]);
    // serial 1 after a canary: web-2 starts only once web-1 is healthy.
    const [apiWeb1, apiWeb2] = api.steps as [StepJson, StepJson];
    expect(apiWeb2.startedAt).toBeGreaterThanOrEqual(apiWeb1.endedAt);
    // after: [api]: gateway's first host starts only once every api host is healthy.
    expect(Math.min(...gw.steps.map((step) => step.startedAt))).toBeGreaterThanOrEqual(Math.max(...api.steps.map((step) => step.endedAt)));
    for (const name of ['web-1', 'web-2'] as const) {
      expect(await fetchText(host(name), 8080, '/version')).toBe('1.0.1');
      expect(await fetchText(host(name), 8081, '/version')).toBe('1.0.1');
      expect(await apiStarts(host(name), '1.0.1')).toBe(1);
    }
    // Unchanged services were not touched.
    expect(service(json, 'queue').result).toBe('unchanged');
  });

  describe.each([
    {
      name: 'a version whose service exits',
      break: (r: ScratchRepo) => r.edit('services/api/api', 'set -eu\n', 'set -eu\necho "api: crashing on purpose" >&2\nexit 3\n'),
      service: 'api',
      port: 8080,
      codes: ['E_UNIT_FAILED', 'E_UNIT_RESTARTED'],
    },
    {
      name: 'a version that answers 500',
      break: async (r: ScratchRepo) => {
        const text = await r.read('services/gateway/gateway');
        await r.releaseArtifact('gateway', 'gateway', text.replace("printf 'HTTP/1.1 200 OK", "printf 'HTTP/1.1 500 Internal Server Error"));
      },
      service: 'gateway',
      port: 8081,
      codes: ['E_HEALTHY_DEADLINE'],
      probeStatus: 500,
    },
    {
      name: 'a version that never binds its port',
      break: (r: ScratchRepo) => r.edit('services/api/api', /exec busybox httpd .*\n/, 'exec sleep 3600\n'),
      service: 'api',
      port: 8080,
      codes: ['E_HEALTHY_DEADLINE'],
      probeError: true,
    },
  ])('$name', (scenario) => {
    it('stops at the first batch, leaves the other hosts untouched, and names host, probe evidence and code', async () => {
      const broken = await exampleRepo();
      await scenario.break(broken);
      const unit = `${scenario.service}.service`;
      const web2Before = await unitProperty(host('web-2'), unit, 'InvocationID');
      const web2Version = await fetchText(host('web-2'), scenario.port, '/version');

      const { run, json } = await apply(broken);
      expect(run.code, run.stderr).toBe(3);
      const result = service(json, scenario.service);
      expect(result.result).toBe('failed-change');
      expect(result.code).toBe('E_CANARY_FAILED');
      expect(result.steps).toHaveLength(1);
      const [step] = result.steps as [StepJson];
      expect(step.host).toBe('web-1');
      expect(step.outcome).toBe('failed');
      expect(step.errorClass).toBe('change');
      expect(scenario.codes).toContain(step.code);
      if (scenario.probeStatus !== undefined) expect(step.lastProbe?.status).toBe(scenario.probeStatus);
      if (scenario.probeError === true) expect(step.lastProbe?.error).toBeTruthy();
      expect(step.journal ?? '').not.toBe('');
      expect(await unitProperty(host('web-2'), unit, 'InvocationID')).toBe(web2Before);
      expect(await fetchText(host('web-2'), scenario.port, '/version')).toBe(web2Version);

      // Put web-1 back on the good release for the next case: it is still on the host, no upload needed.
      const restore = await apply(repo);
      expect(restore.run.code, restore.run.stderr).toBe(0);
    });
  });

  it('refuses an artifact whose sha256 is wrong before any host is touched', async () => {
    const wrong = await exampleRepo();
    await wrong.edit('services/gateway/spec.yml', /sha256: [0-9a-f]{64}/, `sha256: ${'f'.repeat(64)}`);
    const before = await unitProperty(host('web-1'), 'gateway.service', 'InvocationID');
    const run = await runTend(['apply', '--yes', ...fleetArgs(wrong)]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/services\/gateway\/spec\.yml:\d+:\d+: .*\(E_ARTIFACT_HASH\)/);
    expect(await unitProperty(host('web-1'), 'gateway.service', 'InvocationID')).toBe(before);
  });

  it('fails a host whose release cannot be staged (full disk) before its running service is stopped, never blaming the version', async () => {
    const staged = await exampleRepo();
    await staged.edit('services/api/api', /VERSION=1\.0\.\d/, 'VERSION=1.0.7');
    const running = await unitProperty(host('web-1'), 'api.service', 'InvocationID');
    const fault = await fillFilesystem(host('web-1'));
    try {
      const { run, json } = await apply(staged);
      expect(run.code, run.stderr).toBe(3);
      const api = service(json, 'api');
      // A full disk is a person's to free (E_HOST_DISK_FULL, conflict): no retry fills it again, no revert blames the version.
      expect(api.result).toBe('failed-conflict');
      expect(api.steps.map((step) => [step.host, step.outcome, step.errorClass, step.code])).toEqual([['web-1', 'failed', 'conflict', 'E_HOST_DISK_FULL']]);
      expect(await unitProperty(host('web-1'), 'api.service', 'InvocationID')).toBe(running);
      expect(await unitProperty(host('web-1'), 'api.service', 'ActiveState')).toBe('active');
    } finally {
      await fault.restore();
    }
  });

  it('reports a host whose link goes down mid-rollout as unreachable, not as a bad version, and does not hang', async () => {
    await repo.edit('services/api/api', /VERSION=1\.0\.\d/, 'VERSION=1.0.2');
    const tend = startTend(['apply', '--yes', '--json', ...fleetArgs(repo)]);
    let fault: Fault | undefined;
    try {
      await tend.waitForStderr(/^\[api web-1\] (probe|healthy)/);
      fault = await takeLinkDown(host('web-2'));
      const run = await tend.done;
      expect(run.code, run.stderr).toBe(3);
      const api = service(parseJson<ApplyJson>(run), 'api');
      expect(api.result).toBe('failed-transient');
      const web2 = api.steps.find((step) => step.host === 'web-2');
      expect(web2?.outcome).toBe('unreachable');
      expect(web2?.errorClass).toBe('transient');
      expect(['E_HOST_UNREACHABLE', 'E_OUTCOME_UNKNOWN', 'E_COMMAND_TIMEOUT']).toContain(web2?.code);
      expect(api.steps.find((step) => step.host === 'web-1')?.outcome).toBe('healthy');
    } finally {
      await fault?.restore();
    }
    const converge = await apply(repo);
    expect(converge.run.code, converge.run.stderr).toBe(0);
    expect(await fetchText(host('web-2'), 8080, '/version')).toBe('1.0.2');
  }, 300_000);

  it('refuses a host whose key changed with E_HOSTKEY and runs nothing there', async () => {
    const reportsBefore = await unitProperty(host('batch-1'), 'reports.service', 'InvocationID');
    const fault = await changeHostKey(host('batch-1'));
    try {
      const plan = await runTend(['plan', '--json', ...fleetArgs(repo)]);
      expect(plan.code).toBe(1);
      const planned = JSON.parse(plan.stdout) as { plan: { hosts: { host: string; reachable: boolean; code?: string }[] } };
      expect(planned.plan.hosts.find((h) => h.host === 'batch-1')).toMatchObject({ reachable: false, code: 'E_HOSTKEY' });

      const reports = await repo.read('services/reports/reports');
      await repo.releaseArtifact('reports', 'reports', reports.replace(/VERSION=\S+/, 'VERSION=9.9.9'));
      // batch-1 is reports' only host: nothing can be planned for it, so apply stops before any change (exit
      // 1) with the error plan reports too, naming the host and its own code; it never says "No changes".
      const run = await runTend(['apply', '--yes', '--json', ...fleetArgs(repo)]);
      expect(run.code, run.stderr).toBe(1);
      const json = JSON.parse(run.stdout) as { ok: boolean; error: { code: string; class: string; message: string } };
      expect(json).toMatchObject({ ok: false, error: { code: 'E_PLAN_INCOMPLETE', class: 'conflict' } });
      expect(json.error.message).toContain('batch-1 (E_HOSTKEY)');
      expect(await unitProperty(host('batch-1'), 'reports.service', 'InvocationID')).toBe(reportsBefore);
    } finally {
      await fault.restore();
    }
  });
});

afterAll(async () => {
  await Promise.all((hosts ?? []).map((target) => wipeTendState(target)));
});
