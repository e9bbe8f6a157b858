import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../e2e/harness/run-command.js';
import { buildTend, runTend } from '../../support/tend-cli.js';

/**
 * `tend plan|apply [SERVICE...] --limit` through the real binary, against the example repo with every host
 * at 127.0.0.2:1 (nothing listens): unknown names are usage errors naming each with a did-you-mean, before
 * any host is contacted; a limit observes only its hosts and reports the rest as skipped.
 */
const EXAMPLE = join(resolve(fileURLToPath(new URL('../../..', import.meta.url))), 'deploy-repo-example');
let root: string;
let repo: string;
let fleet: string[];

beforeAll(async () => {
  await buildTend();
  root = await mkdtemp(join(tmpdir(), 'tend-limit-'));
  repo = join(root, 'repo');
  await cp(EXAMPLE, repo, { recursive: true });
  const inventory = await readFile(join(repo, 'inventory.yml'), 'utf8');
  await writeFile(join(repo, 'inventory.yml'), inventory.replaceAll(/address: \S+/g, 'address: 127.0.0.2').replaceAll(/port: \d+/g, 'port: 1'));
  const key = join(root, 'id_ed25519');
  await runCommand('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
  await writeFile(join(root, 'api_token'), 'not-a-real-token\n');
  fleet = ['--repo', repo, '--ssh-key', key, '--secrets-dir', root];
}, 300_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('unknown names are usage errors', { timeout: 60_000 }, () => {
  it('plan names every unknown host, group and service with a did-you-mean, and exits 64 (not 2)', async () => {
    const run = await runTend(['plan', 'apii', '--limit', 'web1,bacth', ...fleet]);
    expect(run.code).toBe(64);
    expect(run.stderr).toContain('unknown service "apii" (did you mean api?)');
    expect(run.stderr).toContain('unknown host or group "web1" (did you mean web-1?)');
    expect(run.stderr).toContain('unknown host or group "bacth" (did you mean batch?)');
    expect(run.stderr).toContain('(E_USAGE)');
    expect(run.stderr).toContain('usage: tend plan');
    // Refused before any host was contacted: no observation, no plan.
    expect(run.stdout).not.toContain('Observed');
  });

  it('apply exits 2 on an unknown host, and --json carries the same error', async () => {
    const run = await runTend(['apply', '--yes', '--json', '--limit', 'web-3', ...fleet]);
    expect(run.code).toBe(2);
    const json = JSON.parse(run.stdout) as { ok: boolean; error: { code: string; message: string } };
    expect(json.ok).toBe(false);
    expect(json.error.code).toBe('E_USAGE');
    expect(json.error.message).toContain('unknown host or group "web-3" (did you mean web-1?)');
  });

  it('refuses a --limit that names nothing', async () => {
    const run = await runTend(['plan', '--limit', ',', ...fleet]);
    expect(run.code).toBe(64);
    expect(run.stderr).toContain('--limit names no host or group');
  });
});

describe('a limited plan reports what it skipped', { timeout: 60_000 }, () => {
  it('observes only the limited hosts and lists the rest as "not in --limit", in text', async () => {
    const run = await runTend(['plan', 'api', '--limit', 'web', ...fleet]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('Observed 2 hosts, 2 unreachable.');
    expect(run.stdout).toContain('skipped (not in --limit):\n  gateway: web-1, web-2\n  queue: web-1, web-2\n  reports: batch-1\n');
    expect(run.stdout).toContain('5 skipped (not in --limit)');
    expect(run.stderr).not.toContain('batch-1');
  });

  it('says the same in --json, with the hosts it observed', async () => {
    const run = await runTend(['plan', '--json', '--limit', 'web-1', ...fleet]);
    expect(run.code).toBe(1);
    const json = JSON.parse(run.stdout) as { plan: { hosts: { host: string }[]; skipped: unknown[] } };
    expect(json.plan.hosts.map((host) => host.host)).toEqual(['web-1']);
    expect(json.plan.skipped).toEqual([
      { service: 'api', hosts: ['web-2'], reason: 'not in --limit' },
      { service: 'gateway', hosts: ['web-2'], reason: 'not in --limit' },
      { service: 'queue', hosts: ['web-2'], reason: 'not in --limit' },
      { service: 'reports', hosts: ['batch-1'], reason: 'not in --limit' },
    ]);
  });

  it('apply with a limit touches nothing outside it: its plan lists the rest as skipped', async () => {
    const run = await runTend(['apply', '--yes', '--limit', 'batch', ...fleet]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('Observed 1 hosts, 1 unreachable.');
    expect(run.stdout).toContain('skipped (not in --limit):\n  api: web-1, web-2\n');
  });
});
