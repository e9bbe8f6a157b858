import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DaemonStatus } from '../../src/status/index.js';
import { startEtcdCluster, type EtcdCluster } from '../support/etcd-cluster.js';
import { freePort } from '../support/free-port.js';
import { buildTend } from '../support/tend-cli.js';
import {
  API_TOKEN_SECRET,
  apiScriptAt,
  CRASH_MATRIX,
  daemonConfigArgs,
  DaemonUnderTest,
  eventsNamed,
  exampleOnGitServer,
  fileAt,
  GIT_PASSWORD,
  remoteLog,
  RESYNC_NEVER,
  unitProperty,
  versionOn,
  WEBHOOK_SECRET,
  wipeTendState,
} from './daemon-support.js';
import type { GitServer } from './harness/git-server.js';
import { execInHost, type TestHost } from './harness/hosts.js';
import { useHosts } from './harness/use-hosts.js';

/**
 * Issue 18, first must-show: two `tend run` instances with `ha` against a real 3-member etcd on loopback,
 * real hosts and a real git server. The leader is killed with SIGKILL at each of the 11 crash points of
 * test/e2e/daemon.test.ts; the standby takes over from the journal in etcd, converges, pushes at most one
 * revert per bad commit and leaves no host stopped. The roles alternate: the instance that survived one
 * case is the one killed in the next, so each direction of the takeover is proven.
 * web-1 = host-1, web-2 = host-2, batch-1 = host-3.
 */

const REPO = 'deploy';
/** The smallest lease the config accepts (etcd grants whole seconds; tend refuses less than 3 s). */
const LEASE_TTL_MS = 3_000;
/**
 * How long after the leader's death the standby must be leading, from the config alone:
 * - the dead leader's lease outlives it by at most LEASE_TTL_MS (its last confirmed renewal was before it died);
 * - etcd's lessor looks for expired leases every 500 ms (server/lease/lessor.go, `runLoop`);
 * - the standby's election round comes every third of the TTL (`#tick` in src/leadership/etcd-leadership.ts);
 * - that round's two etcd calls (keepalive, the lowest candidacy key) and the read of the shared journal
 *   each wait at most their deadline, max(500 ms, TTL / 3) (`#callOptions`).
 * A standby later than this missed an election round: that is a defect, not a slow machine.
 */
const ROUND_MS = LEASE_TTL_MS / 3;
const CALL_DEADLINE_MS = Math.max(500, LEASE_TTL_MS / 3);
const TAKEOVER_BOUND_MS = LEASE_TTL_MS + 500 + ROUND_MS + 3 * CALL_DEADLINE_MS;

let hosts: TestHost[];
let gitServer: GitServer;
let secretsDir: string;
let apiScript: string;
let etcd: EtcdCluster;
let version = 0;
const outputs: string[] = [];
const takeovers: { point: string; electedMs: number; readyMs: number; convergedMs: number; passes: number }[] = [];

/** One `tend run` of the pair: its own state directory, identity and port; the same repo, key, secrets and etcd. */
interface Instance {
  readonly identity: string;
  readonly stateDir: string;
  readonly port: number;
  readonly args: readonly string[];
  daemon: DaemonUnderTest | undefined;
}

const instances: Instance[] = [];

function host(name: 'web-1' | 'web-2'): TestHost {
  const found = hosts[name === 'web-1' ? 0 : 1];
  if (found === undefined) throw new Error(`no test host for ${name}`);
  return found;
}

async function instance(identity: string): Promise<Instance> {
  const stateDir = await mkdtemp(join(tmpdir(), `tend-e2e-${identity}-`));
  const port = await freePort();
  const args = await daemonConfigArgs(
    {
      repoUrl: gitServer.repoUrl(REPO),
      sshKey: host('web-1').privateKeyPath,
      secretsDir,
      stateDir,
      // Only the webhook starts a rollout: what the standby does after the kill is the takeover's work alone.
      pollInterval: '1h',
      resync: RESYNC_NEVER,
      retry: { maxAttempts: 5, baseDelay: '500ms', maxDelay: '2s' },
      extra: { ha: { etcd: { endpoints: [...etcd.endpoints], prefix: '/tend-takeover' }, lease_ttl: `${LEASE_TTL_MS / 1000}s`, identity } },
    },
    port,
  );
  return { identity, stateDir, port, args, daemon: undefined };
}

function running(one: Instance): DaemonUnderTest {
  if (one.daemon === undefined) throw new Error(`${one.identity} is not running`);
  return one.daemon;
}

async function start(one: Instance, env: NodeJS.ProcessEnv = {}): Promise<DaemonUnderTest> {
  one.daemon = await DaemonUnderTest.startWith(one.args, one.port, one.stateDir, env);
  return one.daemon;
}

/** SIGTERM: a clean stop, exit 0; a leader revokes its lease, so the other instance leads at once. */
async function stop(one: Instance): Promise<void> {
  const daemon = one.daemon;
  if (daemon === undefined) return;
  one.daemon = undefined;
  const result = await daemon.stop();
  outputs.push(result.stdout, result.stderr);
  expect(result.code, result.stderr.slice(-2000)).toBe(0);
}

async function waitForRole(one: Instance, role: 'leader' | 'standby', timeoutMs = 60_000): Promise<void> {
  const daemon = running(one);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const readiness = await daemon.readiness().catch(() => undefined);
    if (readiness?.ready === true && readiness.role === role) return;
    if (Date.now() > deadline) throw new Error(`${one.identity} is not a ready ${role} after ${timeoutMs} ms: ${JSON.stringify(readiness)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function converged(status: DaemonStatus): boolean {
  return status.lastApplied !== undefined && status.lastApplied === status.source.head && status.inFlight === undefined;
}

function revertsOf(log: { message: string }[], bad: string): number {
  return log.filter((commit) => commit.message.includes(`This reverts commit ${bad}`)).length;
}

async function apiActive(target: TestHost): Promise<string> {
  return (await execInHost(target, ['systemctl', 'is-active', 'api.service']).catch((error: unknown) => ({ stdout: String(error) }))).stdout.trim();
}

/**
 * `doomed` leads with the crash point set, `survivor` is a standby without one, both freshly started, the
 * fleet converged. Only a process started with TEND_TEST_CRASH_AT crashes, and only the leader acts, so
 * the doomed instance is started as a standby and handed the lease by a clean stop of the other.
 */
async function arrange(doomed: Instance, survivor: Instance, point: string): Promise<void> {
  await stop(doomed);
  if (survivor.daemon === undefined) await start(survivor);
  await waitForRole(survivor, 'leader');
  await running(survivor).waitFor('a converged leader', converged, 240_000);
  await start(doomed, { TEND_TEST_CRASH_AT: point });
  await waitForRole(doomed, 'standby');
  await stop(survivor);
  await waitForRole(doomed, 'leader');
  await running(doomed).waitFor('a converged leader after the handover', converged, 60_000);
  await start(survivor);
  await waitForRole(survivor, 'standby');
}

beforeAll(async () => {
  [hosts, etcd] = await Promise.all([useHosts(3), startEtcdCluster(3), buildTend()]);
  await Promise.all(hosts.map((target) => wipeTendState(target)));
  ({ gitServer, secretsDir, apiScript } = await exampleOnGitServer(REPO));
  instances.push(await instance('tend-a'), await instance('tend-b'));
});

afterAll(async () => {
  for (const one of instances) await stop(one).catch(() => undefined);
  // The figures, printed: the test asserts only the bound the config gives.
  console.log(`takeover after kill -9 (lease_ttl ${LEASE_TTL_MS} ms, bound ${TAKEOVER_BOUND_MS} ms):\n${takeovers.map((one) => `  ${one.point.padEnd(20)} elected ${one.electedMs} ms, readyz leader ${one.readyMs} ms, converged ${one.convergedMs} ms in ${one.passes} pass(es)`).join('\n')}`);
  // Secrets never leave tend's processes: not in their logs, not in the commits they pushed.
  const log = gitServer === undefined ? [] : await remoteLog(gitServer, REPO).catch(() => []);
  const everything = [...outputs, ...log.map((commit) => commit.message)].join('\n');
  expect(everything).not.toContain(API_TOKEN_SECRET);
  expect(everything).not.toContain(GIT_PASSWORD);
  expect(everything).not.toContain(WEBHOOK_SECRET);
  await gitServer?.close();
  await etcd?.stop();
  // The hosts are shared by the e2e files that follow: leave them as this file found them.
  await Promise.all((hosts ?? []).map((target) => wipeTendState(target)));
});

/**
 * The same matrix as daemon.test.ts's `crash safety`: a good version for the rollout phases, a broken one
 * for the points of the revert. The killed instance is never restarted before the standby has converged.
 */
describe('a standby takes over after kill -9 of the leader', () => {

  it.each(CRASH_MATRIX.map((one, index) => ({ ...one, index })))(
    'within lease_ttl and one election round, converging, after a kill at $point',
    async ({ point, broken, index }) => {
      const [doomed, survivor] = index % 2 === 0 ? [instances[0], instances[1]] : [instances[1], instances[0]];
      if (doomed === undefined || survivor === undefined) throw new Error('the pair is not set up');
      await arrange(doomed, survivor, point);
      const leader = running(doomed);
      const standby = running(survivor);
      const previous = await versionOn(host('web-1'), 8080);
      // The standby serves what the leader publishes and names it.
      expect((await standby.status()).leadership).toMatchObject({ role: 'standby', self: survivor.identity, leader: { identity: doomed.identity, url: leader.url } });

      version += 1;
      const next = `3.0.${version}`;
      // A new description changes the unit file too, so every phase (write, reload) happens.
      const commit = await gitServer.landCommit(REPO, {
        message: `api ${next}${broken ? ': crashes on start' : ''} (takeover test at ${point})`,
        files: {
          'services/api/api': apiScriptAt(apiScript, next, broken ? 'exits' : undefined),
          'services/api/spec.yml': (await fileAt(gitServer, REPO, 'main', 'services/api/spec.yml')).replace(/description: .*/, `description: "Public API ${next}"`),
        },
      });
      // The standby accepts a well-signed push but does nothing with it: only the leader fetches and acts.
      expect(await standby.webhook()).toBe(202);
      expect(await leader.webhook()).toBe(202);
      const killed = await leader.process.done;
      const diedAt = Date.now();
      doomed.daemon = undefined;
      outputs.push(killed.stdout, killed.stderr);
      expect(killed.code, killed.stderr.slice(-2000)).toBe(137);
      expect(killed.stderr).toContain(`TEND_TEST_CRASH_AT=${point}`);
      // The canary's run as the kill left it: at probe and healthy the shared journal has recorded it.
      const runAtKill = await unitProperty(host('web-1'), 'api.service', 'InvocationID');

      await waitForRole(survivor, 'leader', 60_000);
      const readyMs = Date.now() - diedAt;
      const events = standby.events();
      const elected = events.findIndex((event) => event['msg'] === 'leading: resuming from the shared journal');
      expect(elected, 'the standby logged its takeover').toBeGreaterThanOrEqual(0);
      const electedMs = Date.parse(String(events[elected]?.['time'])) - diedAt;
      // At every point the killed leader's fenced journal in etcd already names the rollout it was in.
      expect(events[elected]?.['inFlight'], 'the shared journal names the interrupted rollout').toEqual(expect.any(String));
      // Before it led, the standby ran no pass: the webhook it accepted moved nothing.
      expect(eventsNamed(events.slice(0, elected), 'pass started')).toEqual([]);
      expect(electedMs).toBeLessThanOrEqual(TAKEOVER_BOUND_MS);

      const settled = await standby.waitFor(
        'convergence after the takeover',
        (status) => converged(status) && status.lastApplied !== (broken ? commit : undefined),
        240_000,
      );
      expect(settled.leadership).toMatchObject({ role: 'leader', self: survivor.identity, leader: { identity: survivor.identity } });
      takeovers.push({ point, electedMs, readyMs, convergedMs: Date.now() - diedAt, passes: eventsNamed(standby.events().slice(elected), 'pass started').length });
      const log = await remoteLog(gitServer, REPO);
      expect(revertsOf(log, commit)).toBe(broken ? 1 : 0);
      if (!broken) expect(settled.lastApplied).toBe(commit);
      for (const name of ['web-1', 'web-2'] as const) {
        expect(await apiActive(host(name))).toBe('active');
        expect(await versionOn(host(name), 8080)).toBe(broken ? previous : next);
      }
      // crash-points.ts's table, across instances: a run the leader saw at probe is judged by the new leader
      // from its start, never restarted; a host it saw healthy is neither restarted nor probed again.
      if (point === 'probe' || point === 'healthy') expect(await unitProperty(host('web-1'), 'api.service', 'InvocationID')).toBe(runAtKill);
      if (point === 'healthy') expect(standby.events().filter((event) => event['host'] === 'web-1' && event['commit'] === commit && event['phase'] === 'probe')).toEqual([]);
    },
    300_000,
  );
});
