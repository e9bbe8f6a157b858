import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DaemonStatus } from '../../src/status/index.js';
import { startEtcdCluster, type EtcdCluster } from '../support/etcd-cluster.js';
import { freePort } from '../support/free-port.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { buildTend } from '../support/tend-cli.js';
import {
  API_TOKEN_SECRET,
  apiScriptAt,
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
 * Issue 18, Must-show 2 and 3, with real hosts, a real git server and a real 3-member etcd on loopback.
 * Each instance reaches etcd through its own TCP proxies, so one instance can be partitioned from etcd
 * while the other still reaches a quorum: a cut resets its open connections and refuses new ones. Who
 * touched a host, and when, is read from the host's own journal: every host step marks its start and end
 * there (`journalctl -t tend`), on the hosts' clock.
 * web-1 = host-1 (api's canary), web-2 = host-2, batch-1 = host-3.
 */

const REPO = 'deploy';
const PREFIX = '/tend-partition';
const LEASE_TTL_MS = 6_000;
/** The bad commit's probe interval: longer than the lease's margin, a third of the TTL. */
const PROBE_INTERVAL_S = 3;
/** A takeover: the old lease runs out (TTL), a standby sees it (a third of the TTL), then one pass. */
const TAKEOVER_AND_PASS_MS = 90_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let hosts: TestHost[];
let gitServer: GitServer;
let secretsDir: string;
let apiScript: string;
let etcd: EtcdCluster;
const proxies = new Map<string, TcpProxy[]>();
const daemons = new Map<string, DaemonUnderTest>();
let startedAt: number;

function host(index: number): TestHost {
  const found = hosts[index];
  if (found === undefined) throw new Error(`no test host ${index}`);
  return found;
}
const webHosts = (): TestHost[] => [host(0), host(1)];

function daemon(identity: string): DaemonUnderTest {
  const found = daemons.get(identity);
  if (found === undefined) throw new Error(`no instance ${identity}`);
  return found;
}

/** An instance of the ha group reaching every etcd member through proxies of its own. */
async function startInstance(identity: string): Promise<DaemonUnderTest> {
  const own = await Promise.all(etcd.endpoints.map((endpoint) => startTcpProxy({ host: '127.0.0.1', port: Number(new URL(endpoint).port) })));
  proxies.set(identity, own);
  const port = await freePort();
  const stateDir = await mkdtemp(join(tmpdir(), `tend-e2e-${identity}-`));
  const args = await daemonConfigArgs(
    {
      repoUrl: gitServer.repoUrl(REPO),
      sshKey: host(0).privateKeyPath,
      secretsDir,
      stateDir,
      pollInterval: '2s',
      retry: { maxAttempts: 3, baseDelay: '500ms', maxDelay: '2s' },
      resync: RESYNC_NEVER,
      extra: { ha: { etcd: { endpoints: own.map((proxy) => proxy.url), prefix: PREFIX }, lease_ttl: `${LEASE_TTL_MS / 1000}s`, identity } },
    },
    port,
  );
  const started = await DaemonUnderTest.startWith(args, port, stateDir);
  daemons.set(identity, started);
  return started;
}

async function partition(identity: string, cut: boolean): Promise<void> {
  await Promise.all((proxies.get(identity) ?? []).map((proxy) => (cut ? proxy.cut() : proxy.heal())));
}

function land(message: string, files: Record<string, string>): Promise<string> {
  return gitServer.landCommit(REPO, { message, files });
}

function converged(status: DaemonStatus): boolean {
  return status.lastApplied !== undefined && status.lastApplied === status.source.head && status.inFlight === undefined;
}

/** Waits until some instance leads and has converged on the branch head as the git server has it now. */
async function waitForLeaderAtHead(what: string, timeoutMs: number): Promise<{ leader: DaemonUnderTest; identity: string; status: DaemonStatus }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const head = await gitServer.head(REPO);
    for (const [identity, instance] of daemons) {
      const status = await instance.status().catch(() => undefined);
      if (status?.leadership?.role === 'leader' && converged(status) && status.lastApplied === head) return { leader: instance, identity, status };
    }
    if (Date.now() > deadline) {
      const tails = [...daemons].map(([identity, instance]) => `--- ${identity}:\n${instance.process.output().stdout.slice(-4000)}`);
      throw new Error(`timed out waiting for ${what} (head ${head.slice(0, 12)})\n${tails.join('\n')}`);
    }
    await sleep(500);
  }
}

/** The revert commits on the branch: which commit each reverts. */
async function revertsOnBranch(): Promise<string[]> {
  return (await remoteLog(gitServer, REPO)).flatMap((commit) => {
    const reverted = /This reverts commit ([0-9a-f]{40})\./.exec(commit.message)?.[1];
    return reverted === undefined ? [] : [reverted];
  });
}

/** When a daemon logged an event (pino's ISO time); NaN for none. */
function timeOf(event: Record<string, unknown> | undefined): number {
  return typeof event?.['time'] === 'string' ? Date.parse(event['time']) : NaN;
}

interface Mark {
  readonly at: number;
  readonly edge: 'begin' | 'end';
  readonly step: string;
  readonly service: string;
  readonly commit: string;
  readonly outcome: string | undefined;
  readonly by: string;
}

/** tend's marks in a host's journal since `sinceMs`, in the host's order, timed by the host (ms, µs kept as a fraction). */
async function marksOn(target: TestHost, sinceMs: number): Promise<Mark[]> {
  const { stdout } = await execInHost(target, ['journalctl', '--no-pager', '-q', '-t', 'tend', '-o', 'json', '--since', `@${Math.floor(sinceMs / 1000)}`]);
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { MESSAGE: string; __REALTIME_TIMESTAMP: string })
    .map((entry) => {
      const parsed = /^(begin|end) (\S+) (\S+) commit=(\S+)(?: outcome=(\S+))? by=(.*)$/.exec(entry.MESSAGE);
      if (parsed === null) throw new Error(`${target.name}: a tend journal line that is no step mark: ${entry.MESSAGE}`);
      const [, edge, step, service, commit, outcome, by] = parsed as unknown as [string, 'begin' | 'end', string, string, string, string | undefined, string];
      return { at: Number(entry.__REALTIME_TIMESTAMP) / 1000, edge, step, service, commit, outcome, by };
    });
}

interface StepInterval {
  readonly host: string;
  readonly by: string;
  readonly label: string;
  readonly begin: number;
  /** Infinity: the step has no end mark. */
  readonly end: number;
  readonly outcome: string | undefined;
}

/** Each step's begin and end marks paired up (per instance, service and commit, in order). */
function stepIntervals(target: TestHost, marks: readonly Mark[]): StepInterval[] {
  const open = new Map<string, Mark>();
  const intervals: StepInterval[] = [];
  for (const mark of marks) {
    const key = `${mark.by}|${mark.service}|${mark.commit}`;
    if (mark.edge === 'begin') {
      const unfinished = open.get(key);
      if (unfinished !== undefined) intervals.push({ host: target.name, by: unfinished.by, label: `${unfinished.step} ${unfinished.service} ${unfinished.commit}`, begin: unfinished.at, end: Infinity, outcome: undefined });
      open.set(key, mark);
      continue;
    }
    const begun = open.get(key);
    if (begun === undefined) throw new Error(`${target.name}: an end mark without its begin: ${JSON.stringify(mark)}`);
    open.delete(key);
    intervals.push({ host: target.name, by: mark.by, label: `${mark.step} ${mark.service} ${mark.commit}`, begin: begun.at, end: mark.at, outcome: mark.outcome });
  }
  for (const begun of open.values()) intervals.push({ host: target.name, by: begun.by, label: `${begun.step} ${begun.service} ${begun.commit}`, begin: begun.at, end: Infinity, outcome: undefined });
  return intervals.sort((a, b) => a.begin - b.begin);
}

/** Pairs of steps by different instances on one host whose intervals overlap. */
function overlapsBetweenInstances(intervals: readonly StepInterval[]): string[] {
  const found: string[] = [];
  for (const a of intervals) {
    for (const b of intervals) {
      if (a.by >= b.by || a.host !== b.host) continue;
      if (a.begin < b.end && b.begin < a.end) found.push(`${a.host}: ${a.by} ${a.label} [${a.begin}, ${a.end}] overlaps ${b.by} ${b.label} [${b.begin}, ${b.end}]`);
    }
  }
  return found;
}

function describeIntervals(intervals: readonly StepInterval[], origin: number): string {
  return intervals.map((one) => `${one.host} ${one.by} ${one.label} ${((one.begin - origin) / 1000).toFixed(3)}s..${((one.end - origin) / 1000).toFixed(3)}s ${one.outcome ?? 'open'}`).join('\n');
}

async function readyz(instance: DaemonUnderTest): Promise<{ status: number; body: { ready?: boolean; role?: string; detail?: string } }> {
  const response = await fetch(`${instance.url}/readyz`, { signal: AbortSignal.timeout(5_000) });
  return { status: response.status, body: (await response.json()) as { ready?: boolean; role?: string; detail?: string } };
}

/** The journal the leaders share, read straight from etcd. */
async function sharedJournal(): Promise<{ knownBad?: Record<string, unknown>; lastApplied?: string }> {
  const client = new Etcd3({ hosts: [...etcd.endpoints] });
  try {
    // knownBad and lastApplied are in the journal's main part (src/leadership/etcd-documents.ts).
    const text = await client.get(`${PREFIX}/journal/main`).string();
    if (text === null) throw new Error('no journal in etcd');
    return JSON.parse(text) as { knownBad?: Record<string, unknown>; lastApplied?: string };
  } finally {
    client.close();
  }
}

beforeAll(async () => {
  [hosts] = await Promise.all([useHosts(3), buildTend()]);
  await Promise.all(hosts.map((target) => wipeTendState(target)));
  ({ gitServer, secretsDir, apiScript } = await exampleOnGitServer(REPO));
  etcd = await startEtcdCluster(3);
  startedAt = Date.now();
  // tend-a starts alone, so it is the leader; tend-b joins as its standby.
  await startInstance('tend-a');
  await waitForLeaderAtHead('tend-a to lead and apply the first commit', 240_000);
  const b = await startInstance('tend-b');
  await b.waitFor('tend-b standing by behind tend-a', (status) => status.leadership?.role === 'standby' && status.leadership.leader?.identity === 'tend-a', 30_000);
});

afterAll(async () => {
  await Promise.all([...daemons.values()].map((instance) => instance.stop().catch(() => undefined)));
  await Promise.all([...proxies.values()].flat().map((proxy) => proxy.close()));
  await etcd?.stop();
  await gitServer?.close();
  // The hosts are shared by the e2e files that follow: leave them as this file found them.
  await Promise.all((hosts ?? []).map((target) => wipeTendState(target)));
});

describe('the leader partitioned from etcd while it probes', () => {
  it('stops acting before its lease runs out; tend-b takes over, reverts the bad commit once and converges; no two instances’ host steps overlap', async () => {
    const a = daemon('tend-a');
    const b = daemon('tend-b');
    const good = /^VERSION=(.*)$/m.exec(apiScript)?.[1];
    // A probe interval longer than the lease's margin (a third of the TTL): the deposed leader must stop
    // watching when its margin is reached, not at the end of an interval.
    const spec = await fileAt(gitServer, REPO, 'main', 'services/api/spec.yml');
    const slowProbes = spec.replace('      path: /health\n', `      path: /health\n      interval: ${PROBE_INTERVAL_S}s\n`);
    expect(slowProbes).not.toBe(spec);
    const bad = await land('api 6.6.6: never binds its port', { 'services/api/api': apiScriptAt(apiScript, '6.6.6', 'never-binds'), 'services/api/spec.yml': slowProbes });
    await a.webhook();
    // The canary runs the bad release and tend-a watches its probe fail (healthy_deadline 10 s): cut now.
    const probing = (): boolean => a.events().some((event) => event['phase'] === 'probe' && event['commit'] === bad && event['service'] === 'api');
    for (const deadline = Date.now() + 60_000; !probing(); await sleep(100)) {
      if (Date.now() > deadline) throw new Error(`tend-a never probed ${bad.slice(0, 12)}:\n${a.process.output().stdout.slice(-4000)}`);
    }
    const cutAt = Date.now();
    await partition('tend-a', true);

    const { identity, status } = await waitForLeaderAtHead('tend-b to take over and converge after reverting the bad commit', TAKEOVER_AND_PASS_MS);
    expect(identity).toBe('tend-b');
    expect(await revertsOnBranch(), 'one revert, of the bad commit').toEqual([bad]);
    expect(status.source.head).not.toBe(bad);
    for (const web of webHosts()) expect(await versionOn(web, 8080), `${web.name} serves the good version again`).toBe(good);

    // tend-a stopped acting before its lease ran out: its log says so, and so does its last mark on the canary.
    const ended = eventsNamed(a.events(), 'leadership ended; stopping at the next safe point');
    expect(ended.length, a.process.output().stdout.slice(-4000)).toBeGreaterThanOrEqual(1);
    const endedAfterMs = timeOf(ended[0]) - cutAt;
    const marks = await Promise.all(hosts.map(async (target) => ({ target, marks: await marksOn(target, startedAt) })));
    const canaryMarks = marks[0]?.marks ?? [];
    const aLastMark = canaryMarks.filter((mark) => mark.by === 'tend-a' && mark.commit === bad.slice(0, 12)).at(-1);
    expect(aLastMark, 'tend-a ended its step on the canary with a mark').toMatchObject({ edge: 'end', outcome: 'superseded' });
    const aStoppedAfterMs = (aLastMark?.at ?? Infinity) - cutAt;
    const bFirst = canaryMarks.find((mark) => mark.by === 'tend-b');
    const bElected = eventsNamed(b.events(), 'elected leader')[0];
    console.log(
      `partition: cut at 0; tend-a's last host mark ${aStoppedAfterMs.toFixed(0)} ms, its "leadership ended" log ${endedAfterMs} ms; ` +
        `tend-b elected ${timeOf(bElected) - cutAt} ms, its first host mark (${bFirst?.step ?? 'none'}) ${((bFirst?.at ?? NaN) - cutAt).toFixed(0)} ms (lease_ttl ${LEASE_TTL_MS} ms)`,
    );
    expect(aStoppedAfterMs).toBeLessThan(LEASE_TTL_MS);
    expect(endedAfterMs).toBeLessThan(LEASE_TTL_MS);

    // No host step of one instance overlaps one of the other, on any host, by the hosts' own clocks.
    const intervals = marks.flatMap(({ target, marks: found }) => stepIntervals(target, found));
    console.log(`host steps (seconds from the cut):\n${describeIntervals(intervals, cutAt)}`);
    expect(intervals.some((one) => one.by === 'tend-b'), 'tend-b carried out host steps').toBe(true);
    expect(intervals.filter((one) => one.end === Infinity), 'every step has an end mark').toEqual([]);
    expect(overlapsBetweenInstances(intervals)).toEqual([]);
    // The marks name things; no secret the daemons hold ever reaches a host's journal through them.
    for (const secret of [API_TOKEN_SECRET, GIT_PASSWORD, WEBHOOK_SECRET]) expect(JSON.stringify(marks.map((one) => one.marks))).not.toContain(secret);

    // Healed, tend-a stands by behind tend-b instead of acting again.
    await partition('tend-a', false);
    await a.waitFor('tend-a standing by behind tend-b', (seen) => seen.leadership?.role === 'standby' && seen.leadership.leader?.identity === 'tend-b', 60_000);
  });
});

describe('etcd down entirely', () => {
  it('no instance acts and both say why; a commit landed meanwhile is rolled out once etcd returns, and the journal in etcd keeps what it had', async () => {
    const before = await waitForLeaderAtHead('a leader at the head', 60_000);
    const knownBadBefore = Object.keys((await sharedJournal()).knownBad ?? {});
    expect(knownBadBefore.length, 'the bad commit of the partition is known-bad').toBe(1);
    const revertsBefore = await revertsOnBranch();
    const invocations = async (): Promise<string[]> => Promise.all(webHosts().map((web) => unitProperty(web, 'api.service', 'InvocationID')));
    const invocationsBefore = await invocations();

    const downAt = Date.now();
    await etcd.stopMembers(0, 1, 2);
    for (const instance of daemons.values()) {
      await instance.waitFor('etcd unavailable', (status) => status.leadership?.role === 'unavailable', LEASE_TTL_MS * 3);
      const ready = await readyz(instance);
      expect([ready.status, ready.body.role]).toEqual([503, 'unavailable']);
      const { json } = await instance.cliStatus();
      expect(json?.leadership?.etcdError?.code).toBe('E_ETCD_UNAVAILABLE');
      expect(json?.leadership?.notActing?.reason).toBe('etcd-unavailable');
    }

    const next = await land('api 7.0.0', { 'services/api/api': apiScriptAt(apiScript, '7.0.0') });
    for (const instance of daemons.values()) await instance.webhook();
    // Longer than a lease and a few polls: time enough for any instance that would act to begin a step.
    await sleep(LEASE_TTL_MS + 6_000);
    const marksWhileDown = (await Promise.all(hosts.map((target) => marksOn(target, downAt)))).flat().filter((mark) => mark.at >= downAt);
    expect(marksWhileDown, 'no host step began or ended while etcd was down').toEqual([]);
    expect(await invocations(), 'api runs the same invocation on every web host').toEqual(invocationsBefore);

    const returnedAt = Date.now();
    await etcd.startMembers(0, 1, 2);
    const after = await waitForLeaderAtHead('an instance to lead again and roll out the commit landed while etcd was down', TAKEOVER_AND_PASS_MS);
    console.log(`etcd down: ${before.identity} led before, ${after.identity} leads ${((Date.now() - returnedAt) / 1000).toFixed(1)} s after etcd returned, at ${next.slice(0, 12)}`);
    expect(after.status.lastApplied).toBe(next);
    for (const web of webHosts()) expect(await versionOn(web, 8080), `${web.name} serves 7.0.0`).toBe('7.0.0');
    expect(Object.keys((await sharedJournal()).knownBad ?? {}), 'the known-bad commit stays known-bad').toEqual(knownBadBefore);
    expect(await revertsOnBranch(), 'and is never reverted twice').toEqual(revertsBefore);
    const intervals = (await Promise.all(hosts.map(async (target) => stepIntervals(target, await marksOn(target, startedAt))))).flat();
    expect(overlapsBetweenInstances(intervals)).toEqual([]);
  });
});
