import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DaemonStatus } from '../../src/status/index.js';
import { freePort } from '../support/free-port.js';
import { buildTend, runTend, ScratchRepo } from '../support/tend-cli.js';
import {
  API_TOKEN_SECRET,
  apiScriptAt,
  CRASH_MATRIX,
  daemonArgs,
  DaemonUnderTest,
  exampleOnGitServer,
  fileAt,
  GIT_PASSWORD,
  nativeRevertTree,
  remoteLog,
  treeOf,
  unitProperty,
  versionOn,
  WEBHOOK_SECRET,
  wipeTendState,
} from './daemon-support.js';
import type { GitServer } from './harness/git-server.js';
import { execInHost, type TestHost } from './harness/hosts.js';
import { useHosts } from './harness/use-hosts.js';

/**
 * Issue 5 end to end: `tend run` follows a real smart-HTTP git server and deploys to three real systemd
 * hosts over SSH; it reverts bad commits with commits of its own, pushed to that server, and survives
 * being killed at named points of a rollout. web-1 = host-1, web-2 = host-2, batch-1 = host-3.
 */

const REPO = 'deploy';
let hosts: TestHost[];
let gitServer: GitServer;
let secretsDir: string;
let apiScript: string;
let version = 0;
const outputs: string[] = [];
let daemon: DaemonUnderTest | undefined;

function host(name: 'web-1' | 'web-2'): TestHost {
  const found = hosts[name === 'web-1' ? 0 : 1];
  if (found === undefined) throw new Error(`no test host for ${name}`);
  return found;
}

async function startDaemon(options: { stateDir?: string; pollInterval?: string; env?: NodeJS.ProcessEnv } = {}): Promise<DaemonUnderTest> {
  const started = await DaemonUnderTest.start({
    repoUrl: gitServer.repoUrl(REPO),
    sshKey: host('web-1').privateKeyPath,
    secretsDir,
    stateDir: options.stateDir ?? (await mkdtemp(join(tmpdir(), 'tend-e2e-state-'))),
    pollInterval: options.pollInterval ?? '2s',
    ...(options.env === undefined ? {} : { env: options.env }),
  });
  daemon = started;
  return started;
}

async function stopDaemon(): Promise<void> {
  if (daemon === undefined) return;
  const result = await daemon.stop();
  outputs.push(result.stdout, result.stderr);
  daemon = undefined;
  // SIGTERM is a clean stop: the current step finishes or is abandoned within the grace period, exit 0.
  expect(result.code, result.stderr.slice(-2000)).toBe(0);
}

function apiAt(next: string, breakage?: 'exits' | 'never-binds'): string {
  return apiScriptAt(apiScript, next, breakage);
}

function nextVersion(): string {
  version += 1;
  return `2.0.${version}`;
}

async function land(message: string, files: Record<string, string>): Promise<string> {
  return gitServer.landCommit(REPO, { message, files });
}

async function apiActive(target: TestHost): Promise<string> {
  return (await execInHost(target, ['systemctl', 'is-active', 'api.service']).catch((error: unknown) => ({ stdout: String(error) }))).stdout.trim();
}

function converged(status: DaemonStatus): boolean {
  return status.lastApplied !== undefined && status.lastApplied === status.source.head && status.inFlight === undefined;
}

function applied(sha: string) {
  return (status: DaemonStatus) => status.lastApplied === sha && status.inFlight === undefined;
}

function revertsOf(log: { message: string }[], bad: string): number {
  return log.filter((commit) => commit.message.includes(`This reverts commit ${bad}`)).length;
}

beforeAll(async () => {
  [hosts] = await Promise.all([useHosts(3), buildTend()]);
  await Promise.all(hosts.map((target) => wipeTendState(target)));
  ({ gitServer, secretsDir, apiScript } = await exampleOnGitServer(REPO));
});

afterEach(async () => {
  await stopDaemon();
});

afterAll(async () => {
  await stopDaemon();
  // Secrets never leave tend's process: not in its logs, not in the commits it pushed.
  const log = await remoteLog(gitServer, REPO).catch(() => []);
  const everything = [...outputs, ...log.map((commit) => commit.message)].join('\n');
  expect(everything).not.toContain(API_TOKEN_SECRET);
  expect(everything).not.toContain(GIT_PASSWORD);
  expect(everything).not.toContain(WEBHOOK_SECRET);
  await gitServer?.close();
  // The hosts are shared by the e2e files that follow: leave them as this file found them.
  await Promise.all((hosts ?? []).map((target) => wipeTendState(target)));
});

describe('tend run follows the deploy repo', () => {
  it('applies the first commit, then a pushed version bump found by polling; tend status shows the commit applied', async () => {
    const tend = await startDaemon({ pollInterval: '2s' });
    const first = await gitServer.head(REPO);
    await tend.waitFor('the first commit applied', applied(first), 240_000);

    const next = nextVersion();
    const bump = await land(`api ${next}`, { 'services/api/api': apiAt(next) });
    await tend.waitFor(`api ${next} applied`, applied(bump));
    expect(await versionOn(host('web-1'), 8080)).toBe(next);
    expect(await versionOn(host('web-2'), 8080)).toBe(next);
    const started = tend.events().find((event) => event['msg'] === 'rollout started' && event['commit'] === bump);
    expect(started?.['reason']).toBe('poll');

    const status = await runTend(['status', '--json', '--server', tend.url]);
    expect(status.code, status.stdout + status.stderr).toBe(0);
    const json = JSON.parse(status.stdout) as DaemonStatus;
    expect(json.lastApplied).toBe(bump);
    expect(json.services.find((one) => one.service === 'api')).toMatchObject({ state: 'Synced', desiredCommit: bump, stableCommit: bump });
    const text = await runTend(['status', '--server', tend.url]);
    expect(text.stdout).toContain(`applied  ${bump.slice(0, 12)}`);
  });

  it('fetches at once on a signed webhook (with polling an hour away) and refuses a badly signed one', async () => {
    const tend = await startDaemon({ pollInterval: '1h' });
    await tend.waitFor('a converged start', converged);
    expect(await tend.webhook('not-the-secret')).toBe(401);
    const next = nextVersion();
    const bump = await land(`api ${next}`, { 'services/api/api': apiAt(next) });
    expect(await tend.webhook()).toBe(202);
    await tend.waitFor(`api ${next} applied after the webhook`, applied(bump), 90_000);
    const started = tend.events().find((event) => event['msg'] === 'rollout started' && event['commit'] === bump);
    expect(started?.['reason']).toBe('webhook');
    expect(await versionOn(host('web-2'), 8080)).toBe(next);
  });
});

describe('rollback by revert commit', () => {
  it('stops a broken version at the canary, pushes exactly one revert (the tree git revert makes), and stays put after', async () => {
    const tend = await startDaemon({ pollInterval: '2s' });
    const good = await tend.waitFor('a converged start', converged);
    const goodVersion = await versionOn(host('web-2'), 8080);
    const web2Before = await unitProperty(host('web-2'), 'api.service', 'InvocationID');

    const broken = nextVersion();
    const bad = await land(`api ${broken}: crashes on start`, { 'services/api/api': apiAt(broken, 'exits') });
    const after = await tend.waitFor(
      'the revert rolled out',
      (status) => status.lastApplied !== undefined && status.lastApplied !== bad && status.lastApplied !== good.lastApplied && status.inFlight === undefined,
      180_000,
    );
    const log = await remoteLog(gitServer, REPO);
    expect(revertsOf(log, bad)).toBe(1);
    const [revert] = log;
    expect(revert?.sha).toBe(after.lastApplied);
    expect(revert?.message).toMatch(new RegExp(`^Revert "api ${broken.replaceAll('.', '\\.')}: crashes on start"\\n\\nThis reverts commit ${bad}\\.`));
    expect(revert?.message).toContain('Tend-Service: api');
    expect(revert?.message).toMatch(/Tend-Error-Code: E_UNIT_(FAILED|RESTARTED)/);
    expect(revert?.message).toContain('Tend-Failed-Hosts: web-1');
    expect(revert?.message).toMatch(/Tend-Rollout-Id: \S+/);
    expect(await treeOf(gitServer, REPO, after.lastApplied as string)).toBe(await nativeRevertTree(gitServer, REPO, bad, bad));
    expect(after.services.find((one) => one.service === 'api')).toMatchObject({ state: 'RolledBack', revertCommit: after.lastApplied });
    // web-2 never ran the broken version; web-1 is back on the previous one.
    expect(await unitProperty(host('web-2'), 'api.service', 'InvocationID')).toBe(web2Before);
    for (const name of ['web-1', 'web-2'] as const) {
      expect(await versionOn(host(name), 8080)).toBe(goodVersion);
      expect(await apiActive(host(name))).toBe('active');
    }

    // Ten poll intervals later: no new commit, no restart.
    const invocations = await Promise.all(['web-1', 'web-2'].map((name) => unitProperty(host(name as 'web-1'), 'api.service', 'InvocationID')));
    const fetchesBefore = tend.events().length;
    await new Promise((resolve) => setTimeout(resolve, 10 * 2_000 + 3_000));
    expect((await remoteLog(gitServer, REPO)).length).toBe(log.length);
    expect(await Promise.all(['web-1', 'web-2'].map((name) => unitProperty(host(name as 'web-1'), 'api.service', 'InvocationID')))).toEqual(invocations);
    expect(tend.events().slice(fetchesBefore).filter((event) => event['msg'] === 'rollout started')).toEqual([]);
  });

  it('lets a fix pushed while the broken version is probed supersede it: no revert commit, the fix rolls out', async () => {
    const tend = await startDaemon({ pollInterval: '1h' });
    await tend.waitFor('a converged start', converged);
    const broken = nextVersion();
    const bad = await land(`api ${broken}: never binds`, { 'services/api/api': apiAt(broken, 'never-binds') });
    expect(await tend.webhook()).toBe(202);
    await tend.process.waitForStdout(new RegExp(`"service":"api","host":"web-1","commit":"${bad}".*"phase":"probe"`));
    const fixed = nextVersion();
    const fix = await land(`api ${fixed}: fixed`, { 'services/api/api': apiAt(fixed) });
    expect(await tend.webhook()).toBe(202);
    await tend.waitFor('the fix applied', applied(fix), 120_000);
    expect(revertsOf(await remoteLog(gitServer, REPO), bad)).toBe(0);
    expect(tend.events().some((event) => event['msg'] === 'rollout superseded by a newer commit' && event['commit'] === bad)).toBe(true);
    for (const name of ['web-1', 'web-2'] as const) expect(await versionOn(host(name), 8080)).toBe(fixed);
  });

  it('surfaces a revert that would conflict as E_REVERT_CONFLICT and pushes nothing', async () => {
    const tend = await startDaemon({ pollInterval: '1h' });
    await tend.waitFor('a converged start', converged);
    const gatewaySpec = (await ScratchRepo.copyOf('deploy-repo-example').then((repo) => repo.read('services/gateway/spec.yml')));
    const broken = nextVersion();
    const bad = await land(`api ${broken} with a gateway description`, {
      'services/api/api': apiAt(broken, 'exits'),
      'services/gateway/spec.yml': gatewaySpec.replace(/description: .*/, 'description: "Gateway, described by the bad commit"'),
    });
    const later = await land('gateway: describe it again', {
      'services/gateway/spec.yml': gatewaySpec.replace(/description: .*/, 'description: "Gateway, described again later"'),
    });
    expect(await tend.webhook()).toBe(202);
    const status = await tend.waitFor('the conflict surfaced', (one) => one.services.some((service) => service.service === 'api' && service.state === 'Stalled'), 120_000);
    expect(status.services.find((service) => service.service === 'api')).toMatchObject({ code: 'E_REVERT_CONFLICT', errorClass: 'conflict' });
    expect(await gitServer.head(REPO)).toBe(later);
    expect(revertsOf(await remoteLog(gitServer, REPO), bad)).toBe(0);
    const text = await runTend(['status', '--server', tend.url]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('E_REVERT_CONFLICT');
    expect(text.stdout).toContain('services/gateway/spec.yml');

    // A person's fix is a new commit: the stall clears and the fix rolls out.
    const fixed = nextVersion();
    const fix = await land(`api ${fixed}: fixed by hand`, { 'services/api/api': apiAt(fixed) });
    expect(await tend.webhook()).toBe(202);
    await tend.waitFor('the fix applied', applied(fix), 120_000);
    expect(await versionOn(host('web-1'), 8080)).toBe(fixed);
  });
});

describe('invalid commits', () => {
  it('touch no host, show file:line:col in status, and the next valid commit applies', async () => {
    const tend = await startDaemon({ pollInterval: '1h' });
    await tend.waitFor('a converged start', converged);
    const before = await Promise.all(hosts.slice(0, 2).map((target) => unitProperty(target, 'api.service', 'InvocationID')));
    const queueSpec = await ScratchRepo.copyOf('deploy-repo-example').then((repo) => repo.read('services/queue/spec.yml'));
    const invalid = await land('queue: a typo', { 'services/queue/spec.yml': queueSpec.replace('serial:', 'serail:') });
    expect(await tend.webhook()).toBe(202);
    const status = await tend.waitFor('the invalid commit surfaced', (one) => one.stalled?.code === 'E_INVALID_COMMIT', 60_000);
    expect(status.stalled?.commit).toBe(invalid);
    expect(status.stalled?.issues[0]).toMatchObject({ file: 'services/queue/spec.yml' });
    expect(status.stalled?.issues[0]?.line).toBeGreaterThan(0);
    const text = await runTend(['status', '--server', tend.url]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/services\/queue\/spec\.yml:\d+:\d+: .*serail/);
    expect(await Promise.all(hosts.slice(0, 2).map((target) => unitProperty(target, 'api.service', 'InvocationID')))).toEqual(before);

    const next = nextVersion();
    const valid = await land(`queue fixed, api ${next}`, { 'services/queue/spec.yml': queueSpec, 'services/api/api': apiAt(next) });
    expect(await tend.webhook()).toBe(202);
    const after = await tend.waitFor('the valid commit applied', applied(valid), 120_000);
    expect(after.stalled).toBeUndefined();
    expect(await versionOn(host('web-2'), 8080)).toBe(next);
  });
});

describe('what needs a person, and what does not', () => {
  it('pauses on a rewritten history with E_HISTORY_REWRITTEN until tend ack, then follows the new head', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'tend-e2e-state-'));
    const tend = await startDaemon({ stateDir, pollInterval: '1h' });
    const start = await tend.waitFor('a converged start', converged);
    const applied0 = start.lastApplied as string;
    const before = await unitProperty(host('web-1'), 'api.service', 'InvocationID');
    // A force-push: the branch goes back one commit and gets a different commit on top.
    await promisify(execFile)('git', ['--git-dir', gitServer.repoPath(REPO), 'update-ref', 'refs/heads/main', `${applied0}~1`, applied0]);
    const next = nextVersion();
    // The new commit keeps the old head's other files, so it is valid whatever the commit before it was.
    const rewritten = await land(`api ${next} on a rewritten branch`, {
      'services/api/api': apiAt(next),
      'services/api/spec.yml': await fileAt(gitServer, REPO, applied0, 'services/api/spec.yml'),
      'services/queue/spec.yml': await fileAt(gitServer, REPO, applied0, 'services/queue/spec.yml'),
    });
    expect(await tend.webhook()).toBe(202);
    const paused = await tend.waitFor('the rewrite surfaced', (status) => status.stalled?.code === 'E_HISTORY_REWRITTEN', 60_000);
    expect(paused.stalled).toMatchObject({ errorClass: 'conflict', commit: rewritten });
    expect(paused.lastApplied).toBe(applied0);
    expect(await unitProperty(host('web-1'), 'api.service', 'InvocationID')).toBe(before);
    const statusRun = await runTend(['status', '--server', tend.url]);
    expect(statusRun.code).toBe(1);
    expect(statusRun.stdout).toContain('tend ack');

    const ack = await runTend(['ack', '--server', tend.url, '--token-file', join(stateDir, 'api-token')]);
    expect(ack.code, ack.stdout + ack.stderr).toBe(0);
    await tend.waitFor('the acknowledged head applied', applied(rewritten), 120_000);
    expect(await versionOn(host('web-1'), 8080)).toBe(next);
    const refused = await runTend(['ack', '--server', tend.url, '--token-file', join(secretsDir, 'api_token')]);
    expect(refused.code).toBe(1);
  });

  it('retries a git outage with backoff within its budget, then stops asking until the next trigger, and recovers', async () => {
    const tend = await startDaemon({ pollInterval: '1h' });
    await tend.waitFor('a converged start', converged);
    gitServer.setFault('unavailable-503');
    try {
      const next = nextVersion();
      const bump = await land(`api ${next} during an outage`, { 'services/api/api': apiAt(next) });
      const requestsBefore = gitServer.requests.length;
      expect(await tend.webhook()).toBe(202);
      await tend.process.waitForStdout(/"msg":"transient failure persisted/);
      const status = await tend.status();
      expect(status.source.error).toMatchObject({ code: 'E_GIT_SERVER', errorClass: 'transient' });
      const duringOutage = gitServer.requests.length - requestsBefore;
      // 5 attempts (the default budget), each a single refused request: bounded, then quiet.
      expect(duringOutage).toBeGreaterThanOrEqual(5);
      expect(duringOutage).toBeLessThanOrEqual(10);
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      expect(gitServer.requests.length - requestsBefore).toBe(duringOutage);
      expect(tend.events().some((event) => event['msg'] === 'rollout started' && event['commit'] === bump)).toBe(false);

      gitServer.setFault('none');
      expect(await tend.webhook()).toBe(202);
      await tend.waitFor('the commit applied after the outage', applied(bump), 120_000);
    } finally {
      gitServer.setFault('none');
    }
  });

  it('rebuilds a corrupt journal from observation without restarting anything', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'tend-e2e-state-'));
    await writeFile(join(stateDir, 'journal.json'), '{"version": 1, "source": "trunc');
    const before = await Promise.all(hosts.slice(0, 2).map((target) => unitProperty(target, 'api.service', 'InvocationID')));
    const tend = await startDaemon({ stateDir, pollInterval: '1h' });
    const status = await tend.waitFor('convergence from observation', (one) => one.lastApplied !== undefined && one.lastApplied === one.source.head && one.inFlight === undefined);
    expect(status.lastApplied).toBe(await gitServer.head(REPO));
    expect(tend.events().some((event) => event['code'] === 'E_JOURNAL_CORRUPT')).toBe(true);
    expect(await Promise.all(hosts.slice(0, 2).map((target) => unitProperty(target, 'api.service', 'InvocationID')))).toEqual(before);
  });

  it('refuses a second tend on the same state directory', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'tend-e2e-state-'));
    await startDaemon({ stateDir, pollInterval: '1h' });
    const options = { repoUrl: gitServer.repoUrl(REPO), sshKey: host('web-1').privateKeyPath, secretsDir, stateDir, pollInterval: '1h' };
    const second = await runTend(await daemonArgs(options, await freePort()), {}, 60_000);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/another tend \(pid \d+\) is running on .*\(E_STATE_LOCKED\)/);
  });
});

/**
 * kill -9 at named points of a rollout: a good version for the rollout phases, a broken one for the points
 * of the revert. Each run: start with the crash point set, land the commit, wait for the kill, start again
 * on the same state directory, and check it converges with at most one revert and no host left stopped.
 */
describe('crash safety: kill -9 at named points', () => {

  it.each(CRASH_MATRIX)('converges after a kill at $point', async ({ point, broken }) => {
    const stateDir = await mkdtemp(join(tmpdir(), 'tend-e2e-state-'));
    const first = await startDaemon({ stateDir, pollInterval: '1h' });
    await first.waitFor('a converged start', converged, 180_000);
    await stopDaemon();
    const previous = await versionOn(host('web-1'), 8080);

    const doomed = await startDaemon({ stateDir, pollInterval: '1h', env: { TEND_TEST_CRASH_AT: point } });
    const next = nextVersion();
    // A new description changes the unit file too, so every phase (write, reload) happens.
    const commit = await land(`api ${next}${broken ? ': crashes on start' : ''} (crash test at ${point})`, {
      'services/api/api': apiAt(next, broken ? 'exits' : undefined),
      'services/api/spec.yml': (await fileAt(gitServer, REPO, 'main', 'services/api/spec.yml')).replace(/description: .*/, `description: "Public API ${next}"`),
    });
    expect(await doomed.webhook()).toBe(202);
    const killed = await doomed.process.done;
    outputs.push(killed.stdout, killed.stderr);
    daemon = undefined;
    expect(killed.code, killed.stderr.slice(-2000)).toBe(137);
    expect(killed.stderr).toContain(`TEND_TEST_CRASH_AT=${point}`);
    // The canary's run as the kill left it: at probe and healthy the journal has recorded it.
    const runAtKill = await unitProperty(host('web-1'), 'api.service', 'InvocationID');

    const again = await startDaemon({ stateDir, pollInterval: '1h' });
    const settled = await again.waitFor(
      'convergence after the restart',
      (status) => status.inFlight === undefined && status.lastApplied !== undefined && status.lastApplied === status.source.head && status.lastApplied !== (broken ? commit : undefined),
      240_000,
    );
    const log = await remoteLog(gitServer, REPO);
    expect(revertsOf(log, commit)).toBe(broken ? 1 : 0);
    if (!broken) expect(settled.lastApplied).toBe(commit);
    for (const name of ['web-1', 'web-2'] as const) {
      expect(await apiActive(host(name))).toBe('active');
      expect(await versionOn(host(name), 8080)).toBe(broken ? previous : next);
    }
    // crash-points.ts's table: a run seen at probe is judged from its start, never restarted; a host seen
    // healthy is neither restarted nor probed again.
    if (point === 'probe' || point === 'healthy') expect(await unitProperty(host('web-1'), 'api.service', 'InvocationID')).toBe(runAtKill);
    if (point === 'healthy') expect(again.events().filter((event) => event['host'] === 'web-1' && event['commit'] === commit && event['phase'] === 'probe')).toEqual([]);
  }, 600_000);
});
