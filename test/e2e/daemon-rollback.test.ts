import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DaemonStatus } from '../../src/status/index.js';
import { buildTend } from '../support/tend-cli.js';
import {
  apiProbeAt500,
  apiScriptAt,
  DaemonUnderTest,
  exampleOnGitServer,
  fileAt,
  remoteLog,
  unitLogSince,
  versionOn,
  wipeTendState,
} from './daemon-support.js';
import type { GitServer } from './harness/git-server.js';
import { execInHost, type TestHost } from './harness/hosts.js';
import { useHosts } from './harness/use-hosts.js';

/**
 * Issue 12, rollback tells the truth: tend reverts one commit at a time, newest first, only a commit some
 * host ran, with evidence from the hosts that ran it; and a tend restarted every few seconds still judges
 * a failing canary by its first start instead of restarting it (and its healthy_deadline) each time.
 * web-1 = host-1 (api's canary), web-2 = host-2, batch-1 = host-3.
 */

const REPO = 'deploy';
/** api's healthy_deadline in exampleRepo(). */
const HEALTHY_DEADLINE_MS = 10_000;
/** One pass after a start: fetch, observe three hosts, judge, write and push a revert (measured: a few seconds). */
const PASS_ALLOWANCE_MS = 20_000;
/** The issue's measurement: tend killed every 3 s for a minute. */
const KILL_EVERY_MS = 3_000;
const KILL_WINDOW_MS = 60_000;
/**
 * Starts of the bad release on the canary that a correct tend may cause: the rollout's one, plus one if a
 * kill lands between writing the release and recording its restart (the journal cannot know the restart
 * happened). Today's tend restarts it on every start: about one per kill.
 */
const MAX_CANARY_STARTS = 2;

let hosts: TestHost[];
let gitServer: GitServer;
let secretsDir: string;
let apiScript: string;
let stateDir: string;
let daemon: DaemonUnderTest | undefined;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function web(name: 'web-1' | 'web-2'): TestHost {
  const found = hosts[name === 'web-1' ? 0 : 1];
  if (found === undefined) throw new Error(`no test host for ${name}`);
  return found;
}

async function startDaemon(): Promise<DaemonUnderTest> {
  daemon = await DaemonUnderTest.start({ repoUrl: gitServer.repoUrl(REPO), sshKey: web('web-1').privateKeyPath, secretsDir, stateDir, pollInterval: '2s' });
  return daemon;
}

async function stopDaemon(): Promise<void> {
  if (daemon === undefined) return;
  const result = await daemon.stop();
  daemon = undefined;
  expect(result.code, result.stderr.slice(-2000)).toBe(0);
}

function land(message: string, files: Record<string, string>): Promise<string> {
  return gitServer.landCommit(REPO, { message, files });
}

function converged(status: DaemonStatus): boolean {
  return status.lastApplied !== undefined && status.lastApplied === status.source.head && status.inFlight === undefined;
}

/**
 * Waits until tend has converged on the branch head and that head's api is none of the bad versions (a
 * revert chain may pass through several heads); returns the api version there.
 */
async function waitForSettled(tend: DaemonUnderTest, badVersions: readonly string[], timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await tend.status().catch(() => undefined);
    const head = await gitServer.head(REPO);
    const atHead = /^VERSION=(.*)$/m.exec(await fileAt(gitServer, REPO, head, 'services/api/api'))?.[1] ?? '';
    if (status !== undefined && converged(status) && status.lastApplied === head && !badVersions.includes(atHead)) return atHead;
    if (Date.now() > deadline) {
      const log = (await remoteLog(gitServer, REPO)).slice(0, 6).map((commit) => `${commit.sha.slice(0, 12)} ${commit.message}`);
      throw new Error(`tend did not settle off api ${badVersions.join(', ')} (branch head has ${atHead}); last status:\n${JSON.stringify(status, null, 2)}\nbranch:\n${log.join('\n')}\nlog tail:\n${tend.process.output().stdout.slice(-5000)}`);
    }
    await sleep(1_000);
  }
}

/** The revert commits on the branch, newest first: which commit each reverts and the hosts its trailers blame. */
async function reverts(): Promise<{ sha: string; reverts: string; failedHosts: string[]; message: string }[]> {
  return (await remoteLog(gitServer, REPO)).flatMap((commit) => {
    const reverted = /This reverts commit ([0-9a-f]{40})\./.exec(commit.message)?.[1];
    if (reverted === undefined) return [];
    const hostsLine = /^Tend-Failed-Hosts: (.*)$/m.exec(commit.message)?.[1] ?? '';
    return [{ sha: commit.sha, reverts: reverted, failedHosts: hostsLine.split(',').map((one) => one.trim()).filter((one) => one !== ''), message: commit.message }];
  });
}

/** The web hosts whose api journal shows that release crashing since `sinceMs`: the hosts that ran it. */
async function hostsThatRan(version: string, sinceMs: number): Promise<string[]> {
  const ran: string[] = [];
  for (const name of ['web-1', 'web-2'] as const) {
    const lines = await unitLogSince(web(name), 'api.service', sinceMs);
    if (lines.some((line) => line.startsWith(`api ${version}: crashing on purpose`))) ran.push(name);
  }
  return ran;
}

async function expectHealthyAt(version: string): Promise<void> {
  for (const name of ['web-1', 'web-2'] as const) {
    expect(await versionOn(web(name), 8080), `${name} serves /version`).toBe(version);
    expect((await execInHost(web(name), ['systemctl', 'is-active', 'api.service'], { allowFailure: true })).stdout.trim(), `${name} api.service`).toBe('active');
  }
}

beforeAll(async () => {
  [hosts] = await Promise.all([useHosts(3), buildTend()]);
  await Promise.all(hosts.map((target) => wipeTendState(target)));
  ({ gitServer, secretsDir, apiScript } = await exampleOnGitServer(REPO));
  stateDir = await mkdtemp(join(tmpdir(), 'tend-e2e-state-'));
  const tend = await startDaemon();
  await tend.waitFor('the first commit applied', converged, 240_000);
});

afterEach(async () => {
  await stopDaemon();
});

afterAll(async () => {
  await stopDaemon();
  await gitServer?.close();
  // The hosts are shared by the e2e files that follow: leave them as this file found them.
  await Promise.all((hosts ?? []).map((target) => wipeTendState(target)));
});

describe('revert one commit at a time, newest first, on its own evidence', () => {
  it('good 3.0.0 then bad 3.1.0 0.3 s later: one revert, of 3.1.0, blaming only hosts that ran it; hosts end on 3.0.0', async () => {
    const tend = daemon ?? (await startDaemon());
    const since = Date.now();
    const good = await land('api 3.0.0 (good)', { 'services/api/api': apiScriptAt(apiScript, '3.0.0') });
    await sleep(300);
    const bad = await land('api 3.1.0: crashes on start', { 'services/api/api': apiScriptAt(apiScript, '3.1.0', 'exits') });
    const settled = await waitForSettled(tend, ['3.1.0'], 180_000);
    // A second revert would follow the first within a pass: give it the time to show.
    await sleep(5_000);

    const found = await reverts();
    const ran = await hostsThatRan('3.1.0', since);
    console.log(`reverts: ${found.map((one) => `${one.sha.slice(0, 12)} reverts ${one.reverts.slice(0, 12)} blaming [${one.failedHosts.join(', ')}]`).join('; ')}; hosts that ran 3.1.0: [${ran.join(', ')}]`);
    expect(found.map((one) => one.reverts), `the commits tend reverted (good ${good.slice(0, 12)}, bad ${bad.slice(0, 12)})`).toEqual([bad]);
    expect(found[0]?.message).toMatch(/^Revert "api 3\.1\.0: crashes on start"/);
    expect(ran.length, 'some host ran 3.1.0').toBeGreaterThan(0);
    expect(found[0]?.failedHosts.length).toBeGreaterThan(0);
    for (const blamed of found[0]?.failedHosts ?? []) expect(ran, `${blamed} is blamed for 3.1.0`).toContain(blamed);
    expect(settled, 'api at the settled branch head').toBe('3.0.0');
    await expectHealthyAt('3.0.0');
  }, 240_000);

  it('bad 3.2.0 then bad 3.3.0 0.3 s later: two reverts, 3.3.0 first, each blaming hosts that ran that release; hosts end on 3.0.0', async () => {
    const tend = daemon ?? (await startDaemon());
    if ((await versionOn(web('web-1'), 8080)) !== '3.0.0') {
      // The case above failed and left another version: start this one from 3.0.0 all the same.
      await land('api 3.0.0 (good, again)', { 'services/api/api': apiScriptAt(apiScript, '3.0.0') });
      expect(await waitForSettled(tend, [], 120_000)).toBe('3.0.0');
    }
    const since = Date.now();
    const revertsBefore = (await reverts()).length;
    const older = await land('api 3.2.0: crashes on start', { 'services/api/api': apiScriptAt(apiScript, '3.2.0', 'exits') });
    await sleep(300);
    const newer = await land('api 3.3.0: crashes on start', { 'services/api/api': apiScriptAt(apiScript, '3.3.0', 'exits') });
    const settled = await waitForSettled(tend, ['3.2.0', '3.3.0'], 240_000);
    await sleep(5_000);

    const all = await reverts();
    const found = all.slice(0, all.length - revertsBefore);
    const ran = { [newer]: await hostsThatRan('3.3.0', since), [older]: await hostsThatRan('3.2.0', since) };
    console.log(`reverts: ${found.map((one) => `${one.sha.slice(0, 12)} reverts ${one.reverts.slice(0, 12)} blaming [${one.failedHosts.join(', ')}]`).join('; ')}; ran 3.3.0: [${ran[newer]?.join(', ')}], ran 3.2.0: [${ran[older]?.join(', ')}]`);
    // Newest first in the log: the revert of 3.2.0 on top, the revert of 3.3.0 (written first) below it.
    expect(found.map((one) => one.reverts), `reverted, newest revert first (3.2.0 ${older.slice(0, 12)}, 3.3.0 ${newer.slice(0, 12)})`).toEqual([older, newer]);
    for (const revert of found) {
      const evidence = ran[revert.reverts] ?? [];
      expect(evidence.length, `some host ran ${revert.reverts.slice(0, 12)}`).toBeGreaterThan(0);
      expect(revert.failedHosts.length).toBeGreaterThan(0);
      for (const blamed of revert.failedHosts) expect(evidence, `${blamed} is blamed for ${revert.reverts.slice(0, 12)}`).toContain(blamed);
    }
    expect(settled, 'api at the settled branch head').toBe('3.0.0');
    await expectHealthyAt('3.0.0');
  }, 300_000);
});

describe('a tend restarted every few seconds', () => {
  it('still reverts a canary failing its probe within healthy_deadline + one pass of the last start, without restarting it each time', async () => {
    await stopDaemon();
    const previous = await versionOn(web('web-1'), 8080);
    const spec = await fileAt(gitServer, REPO, 'main', 'services/api/spec.yml');
    const since = Date.now();
    const bad = await land('api 4.0.0: answers 500', { 'services/api/api': apiScriptAt(apiScript, '4.0.0', 'serves-500'), 'services/api/spec.yml': apiProbeAt500(spec) });

    let kills = 0;
    let tend = await startDaemon();
    const killUntil = Date.now() + KILL_WINDOW_MS;
    while (Date.now() < killUntil) {
      await sleep(KILL_EVERY_MS);
      tend.process.kill('SIGKILL');
      await tend.process.done;
      daemon = undefined;
      kills += 1;
      tend = await tend.startAgain();
      daemon = tend;
    }
    const lastStart = Date.now();
    const revertedAt = await (async () => {
      const deadline = lastStart + HEALTHY_DEADLINE_MS + PASS_ALLOWANCE_MS;
      for (;;) {
        if ((await reverts()).some((one) => one.reverts === bad)) return Date.now();
        if (Date.now() > deadline) return undefined;
        await sleep(500);
      }
    })();
    const starts = (await unitLogSince(web('web-1'), 'api.service', since)).filter((line) => line.startsWith('api 4.0.0 listening'));
    console.log(`${kills} kills; api 4.0.0 started ${starts.length} times on web-1; revert ${revertedAt === undefined ? 'not pushed' : `found ${((revertedAt - lastStart) / 1000).toFixed(1)} s after the last start`}`);

    expect.soft(starts.length, 'starts of api 4.0.0 on the canary').toBeLessThanOrEqual(MAX_CANARY_STARTS);
    expect(revertedAt, `a revert of ${bad.slice(0, 12)} within healthy_deadline + one pass of the last start`).toBeDefined();
    expect(await waitForSettled(tend, ['4.0.0'], 120_000)).toBe(previous);
    expect((await reverts()).filter((one) => one.reverts === bad)).toHaveLength(1);
    await expectHealthyAt(previous);
  }, 300_000);
});
