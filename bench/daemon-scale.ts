/**
 * The daemon at the harness's size: `tend run` following a real `git http-backend` server, 20 services on
 * the harness's real systemd hosts (200 by default; the harness allows 244), each service on one group of
 * 10 hosts (Dyploma's shape: 17 hosts a service), so the service a commit touches has 10 hosts at every size.
 * Side by side in one run:
 *   (a) first converge of the whole fleet from empty hosts, the 20 services independent vs each `after:`
 *       the one before it;
 *   (b) passes with nothing to do on the converged fleet: a webhook with no new commit (what every idle
 *       poll costs) and a full pass (`tend retry`: every host observed, as start-up and resync do);
 *   (c) webhook → first restart of a commit that releases one service, at every fleet size.
 * Probe timings are short (interval 250 ms, min_healthy_time 500 ms), so the figures are tend's and the
 * hosts' work, not dwell.
 *
 *   npx tsx bench/daemon-scale.ts      (as root; BENCH_SIZES=50,200, BENCH_RUNS=3, BENCH_CONVERGE_RUNS=1, BENCH_GROUP_SIZE=10)
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonUnderTest, daemonConfigArgs, GIT_PASSWORD, GIT_USER, RESYNC_NEVER, wipeTendState } from '../test/e2e/daemon-support.js';
import { GitServer } from '../test/e2e/harness/git-server.js';
import { execInHost, startHosts, type TestHost } from '../test/e2e/harness/hosts.js';
import { CLIENT_KEY_PATH } from '../test/e2e/harness/layout.js';
import { prepareMachine } from '../test/e2e/harness/prepare-machine.js';
import { assertRoot } from '../test/e2e/harness/prerequisites.js';
import { freePort } from '../test/support/free-port.js';
import { buildTend } from '../test/support/tend-cli.js';
import { log } from './support/bench-fleet.js';
import { daemonNodeOptions } from './support/daemon-node-options.js';
import { fleetGroups, fleetInstances, serviceName, serviceScript, writeFleetRepo, type FleetOrder, type FleetPlacement } from './support/fleet-repo.js';
import { describeRuns, formatMs, formatRatio, median, report, targetLine } from './support/stats.js';

const SIZES = (process.env['BENCH_SIZES'] ?? '50,200').split(',').map(Number).sort((a, b) => b - a);
const SERVICES = 20;
const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const CONVERGE_RUNS = Number(process.env['BENCH_CONVERGE_RUNS'] ?? 1);
const largest = SIZES[0]!;
// Dyploma runs 17 hosts a service; 10 keeps that shape and puts exactly one service on each of 200 hosts.
const GROUP_SIZE = Number(process.env['BENCH_GROUP_SIZE'] ?? 10);
const PLACEMENT: FleetPlacement = { kind: 'grouped', groupSize: GROUP_SIZE };
// Five batches a service, whatever the group size.
const TIMING = { serial: Math.max(1, Math.round(GROUP_SIZE / 5)), interval: '250ms', minHealthyTime: '500ms' };
const RELEASED = 0;
const UNIT = `${serviceName(RELEASED)}.service`;
const ARTIFACT_PATH = `services/${serviceName(RELEASED)}/${serviceName(RELEASED)}`;
const HOST_WORK_LIMIT = 16;
const CONVERGE_TIMEOUT_MS = 14 * 60_000;

type Event = Record<string, unknown>;

assertRoot();
await prepareMachine(log);
await buildTend();
const booted = performance.now();
const hosts = await startHosts(largest, { log });
log(`${hosts.length} hosts up in ${((performance.now() - booted) / 1000).toFixed(1)} s`);
const gitServer = await GitServer.start({ user: GIT_USER, password: GIT_PASSWORD });
const LOG_DIR = await mkdtemp(join(tmpdir(), 'tend-bench-daemon-logs-'));
log(`the daemons' logs go to ${LOG_DIR}`);

/** `work` on every item, at most `limit` at once: 200 hosts' systemd at once would only queue for 2 cores. */
async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/**
 * Every host as the rootfs has it, before tend: what tend left removed, and /var/lib/tend owned by root
 * and searchable again (another test may leave it mode 0700, and every service would fail to exec).
 */
async function wipeHosts(): Promise<void> {
  const started = performance.now();
  await eachLimited(hosts, HOST_WORK_LIMIT, async (host) => {
    await wipeTendState(host);
    await execInHost(host, ['sh', '-c', 'if [ -d /var/lib/tend ]; then chown root:root /var/lib/tend && chmod 0755 /var/lib/tend; fi']);
  });
  log(`${hosts.length} hosts wiped in ${formatMs(performance.now() - started)}`);
}

/** A repo of the fleet on the git server; returns its name and first commit. */
async function fleetOnServer(name: string, fleetHosts: readonly TestHost[], order: FleetOrder): Promise<{ name: string; head: string }> {
  const dir = await writeFleetRepo(await mkdtemp(join(tmpdir(), `tend-bench-${name}-`)), { hosts: fleetHosts, services: SERVICES, timing: TIMING, version: '1', placement: PLACEMENT, order });
  return { name, head: await gitServer.createRepo(name, dir, { message: `Bench fleet, ${order}` }) };
}

/** `tend run` on a repo of the server, with a new state directory: no poll and no resync comes during a figure. */
async function startDaemon(repo: string): Promise<DaemonUnderTest> {
  const stateDir = await mkdtemp(join(tmpdir(), 'tend-bench-daemon-'));
  const secretsDir = await mkdtemp(join(tmpdir(), 'tend-bench-secrets-'));
  const port = await freePort();
  const options = {
    repoUrl: gitServer.repoUrl(repo),
    sshKey: CLIENT_KEY_PATH,
    secretsDir,
    stateDir,
    pollInterval: '1h',
    resync: RESYNC_NEVER,
    retry: { maxAttempts: 3, baseDelay: '500ms', maxDelay: '2s' },
  };
  // As tend.service runs it: V8 reads the young generation's size only at start-up.
  return DaemonUnderTest.startWith(await daemonConfigArgs(options, port), port, stateDir, { NODE_OPTIONS: await daemonNodeOptions() });
}

/** Stops the daemon and keeps its log beside the others, for reading a figure afterwards. */
async function stopDaemon(daemon: DaemonUnderTest, repo: string): Promise<void> {
  const stopped = await daemon.stop();
  if (stopped.code !== 0) log(`tend run exited ${stopped.code}`);
  await writeFile(join(LOG_DIR, `${repo}.log`), stopped.stdout + stopped.stderr);
}

/** tend logs ISO times with milliseconds, from the same clock as Date.now() here. */
function eventTime(event: Event): number {
  return Date.parse(String(event['time']));
}

/** Per service, from its first step event to its last: when it was rolling out. */
function serviceSpans(events: readonly Event[]): Map<string, { from: number; to: number }> {
  const spans = new Map<string, { from: number; to: number }>();
  for (const event of events) {
    if (typeof event['phase'] !== 'string' || typeof event['service'] !== 'string') continue;
    const at = eventTime(event);
    const span = spans.get(event['service']);
    spans.set(event['service'], span === undefined ? { from: at, to: at } : { from: Math.min(span.from, at), to: Math.max(span.to, at) });
  }
  return spans;
}

/** The most services rolling out at one moment. */
function peakInFlight(spans: Iterable<{ from: number; to: number }>): number {
  const edges = [...spans].flatMap((span) => [
    { at: span.from, delta: 1 },
    { at: span.to, delta: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || b.delta - a.delta);
  let now = 0;
  let peak = 0;
  for (const edge of edges) {
    now += edge.delta;
    peak = Math.max(peak, now);
  }
  return peak;
}

interface ConvergeFigures {
  /** Start-up pass started → rollout converged, from the daemon's own events. */
  readonly passMs: number;
  readonly peakServices: number;
  /** Sum over services of first step → last step. */
  readonly serviceSpanMs: number;
}

async function firstConverge(order: FleetOrder, run: number): Promise<ConvergeFigures> {
  await wipeHosts();
  const repo = await fleetOnServer(`${order}-${run}`, hosts, order);
  const daemon = await startDaemon(repo.name);
  try {
    await daemon.waitFor(`the first converge (${order})`, (status) => status.lastApplied === repo.head, CONVERGE_TIMEOUT_MS);
    const events = daemon.events();
    const passStarted = events.find((event) => event['msg'] === 'pass started');
    const converged = events.find((event) => event['msg'] === 'rollout converged');
    if (passStarted === undefined || converged === undefined) throw new Error(`the daemon logged no start-up pass or no converged rollout (${order})`);
    const spans = serviceSpans(events);
    if (spans.size !== SERVICES) throw new Error(`${spans.size} of ${SERVICES} services rolled out (${order})`);
    const figures = {
      passMs: eventTime(converged) - eventTime(passStarted),
      peakServices: peakInFlight(spans.values()),
      serviceSpanMs: [...spans.values()].reduce((sum, span) => sum + span.to - span.from, 0),
    };
    log(`first converge, ${order}, run ${run}: ${formatMs(figures.passMs)}, at most ${figures.peakServices} services at once`);
    return figures;
  } finally {
    await stopDaemon(daemon, repo.name);
  }
}

/**
 * From the daemon's /metrics: how many passes ended and their total time (tend_reconcile_duration_seconds),
 * and the CPU time the process has used (prom-client's process_cpu_seconds_total).
 */
async function daemonTotals(daemon: DaemonUnderTest): Promise<{ passes: number; passSeconds: number; cpuSeconds: number }> {
  const text = await (await fetch(`${daemon.url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { passes: value('tend_reconcile_duration_seconds_count'), passSeconds: value('tend_reconcile_duration_seconds_sum'), cpuSeconds: value('process_cpu_seconds_total') };
}

interface PassFigures {
  /** The pass's wall time, as the daemon measures it (its own pass histogram). */
  readonly wallMs: number;
  /** CPU the daemon used from the trigger until the pass ended: tend's own work, apart from waiting. */
  readonly cpuMs: number;
}

const SCRAPE_EVERY_MS = 250;

/**
 * The one pass `trigger` causes. /metrics is read every 250 ms, not faster: rendering it costs the daemon
 * CPU that grows with the hosts (per-host series), and reading it in a tight loop slowed the very pass it
 * timed. The CPU of those reads, measured on the idle daemon just before, is taken out of the figure.
 */
async function timedPass(daemon: DaemonUnderTest, trigger: () => Promise<void>): Promise<PassFigures> {
  const first = await daemonTotals(daemon);
  const before = await daemonTotals(daemon);
  const scrapeSeconds = before.cpuSeconds - first.cpuSeconds;
  await trigger();
  const deadline = Date.now() + 300_000;
  for (let scrapes = 1; ; scrapes += 1) {
    await new Promise((resolve) => setTimeout(resolve, SCRAPE_EVERY_MS));
    const after = await daemonTotals(daemon);
    if (after.passes > before.passes) {
      if (after.passes > before.passes + 1) throw new Error('another pass ran while one was being timed');
      return { wallMs: (after.passSeconds - before.passSeconds) * 1000, cpuMs: (after.cpuSeconds - before.cpuSeconds - scrapes * scrapeSeconds) * 1000 };
    }
    if (Date.now() > deadline) throw new Error('no pass ended within 5 minutes of its trigger');
  }
}

async function webhook(daemon: DaemonUnderTest): Promise<void> {
  const status = await daemon.webhook();
  if (status !== 202 && status !== 200) throw new Error(`the webhook was answered ${status}`);
}

async function retryAll(daemon: DaemonUnderTest): Promise<void> {
  const token = (await readFile(join(daemon.stateDir, 'api-token'), 'utf8')).trim();
  const response = await fetch(`${daemon.url}/api/v1/retry`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`POST /api/v1/retry was answered ${response.status}`);
}

/** CLOCK_MONOTONIC in µs, the clock of systemd's *TimestampMonotonic properties, which the hosts share. */
function monotonicMicros(): bigint {
  return process.hrtime.bigint() / 1000n;
}

async function mainStartMicros(host: TestHost): Promise<bigint> {
  const { stdout } = await execInHost(host, ['systemctl', 'show', '-p', 'ExecMainStartTimestampMonotonic', '--value', UNIT]);
  return BigInt(stdout.trim());
}

async function startsOf(serviceHosts: readonly TestHost[]): Promise<bigint[]> {
  const starts: bigint[] = Array.from({ length: serviceHosts.length }, () => 0n);
  await eachLimited([...serviceHosts.keys()], HOST_WORK_LIMIT, async (index) => {
    starts[index] = await mainStartMicros(serviceHosts[index]!);
  });
  return starts;
}

interface LatencyFigures {
  /** Push → the first of the service's hosts restarted its unit. */
  readonly restartMs: number;
  /** Webhook sent → `rollout started` logged: fetch, load, observe and plan. */
  readonly planMs: number;
  /** The whole pass (until every host of the service is healthy): wall time and tend's CPU. */
  readonly pass: PassFigures;
}

let version = 1;
/** Releases the service, sends the webhook at once, waits for the pass that applies it to end. */
async function releaseLatency(daemon: DaemonUnderTest, repo: string, serviceHosts: readonly TestHost[]): Promise<LatencyFigures> {
  version += 1;
  const before = await startsOf(serviceHosts);
  const eventsBefore = daemon.events().length;
  const commit = await gitServer.landCommit(repo, { files: { [ARTIFACT_PATH]: serviceScript(serviceName(RELEASED), String(version)) }, message: `Release ${serviceName(RELEASED)} ${version}` });
  let pushedAt = 0n;
  let sentAt = 0;
  const pass = await timedPass(daemon, async () => {
    pushedAt = monotonicMicros();
    sentAt = Date.now();
    await webhook(daemon);
  });
  const status = await daemon.status();
  if (status.lastApplied !== commit) throw new Error(`the pass after the webhook left ${status.lastApplied?.slice(0, 12)} applied, not ${commit.slice(0, 12)}`);
  const after = await startsOf(serviceHosts);
  const restarted = after.filter((started, index) => started !== before[index]);
  if (restarted.length !== serviceHosts.length) throw new Error(`${restarted.length} of ${serviceHosts.length} hosts restarted ${UNIT}`);
  const first = restarted.reduce((a, b) => (a < b ? a : b));
  const rolloutStarted = daemon.events().slice(eventsBefore).find((event) => event['msg'] === 'rollout started');
  if (rolloutStarted === undefined) throw new Error(`no rollout started for ${commit.slice(0, 12)}`);
  return { restartMs: Number(first - pushedAt) / 1000, planMs: eventTime(rolloutStarted) - sentAt, pass };
}

interface SizeFigures {
  readonly hosts: number;
  readonly instances: number;
  readonly serviceHosts: number;
  readonly idleWebhook: PassFigures[];
  readonly fullPass: PassFigures[];
  readonly release: LatencyFigures[];
}

async function steadyState(size: number): Promise<SizeFigures> {
  const fleetHosts = hosts.slice(0, size);
  const repo = await fleetOnServer(`steady-${size}`, fleetHosts, 'independent');
  const serviceHosts = fleetGroups(fleetHosts, PLACEMENT)[0]!.hosts.map((one) => fleetHosts.find((host) => host.name === one.name)!);
  const daemon = await startDaemon(repo.name);
  try {
    const started = performance.now();
    await daemon.waitFor(`${size} hosts converged`, (status) => status.lastApplied === repo.head, CONVERGE_TIMEOUT_MS);
    // The start-up pass records the commit applied before it ends; a figure must not time its tail.
    while ((await daemonTotals(daemon)).passes < 1) await new Promise((resolve) => setTimeout(resolve, SCRAPE_EVERY_MS));
    log(`${size} hosts: converged by the start-up pass in ${formatMs(performance.now() - started)}`);
    const figures: SizeFigures = { hosts: size, instances: fleetInstances(fleetHosts, SERVICES, PLACEMENT), serviceHosts: serviceHosts.length, idleWebhook: [], fullPass: [], release: [] };
    for (let run = 1; run <= RUNS; run += 1) {
      const idle = await timedPass(daemon, () => webhook(daemon));
      const full = await timedPass(daemon, () => retryAll(daemon));
      const release = await releaseLatency(daemon, repo.name, serviceHosts);
      figures.idleWebhook.push(idle);
      figures.fullPass.push(full);
      figures.release.push(release);
      log(
        `${size} hosts, run ${run}/${RUNS}: idle webhook pass ${formatMs(idle.wallMs)} (CPU ${formatMs(idle.cpuMs)}), full pass ${formatMs(full.wallMs)} (CPU ${formatMs(full.cpuMs)}), webhook → first restart ${formatMs(release.restartMs)} (plan ${formatMs(release.planMs)}; whole pass ${formatMs(release.pass.wallMs)}, CPU ${formatMs(release.pass.cpuMs)})`,
      );
    }
    return figures;
  } finally {
    await stopDaemon(daemon, repo.name);
  }
}

try {
  const converge: Record<FleetOrder, ConvergeFigures[]> = { chained: [], independent: [] };
  for (let run = 1; run <= CONVERGE_RUNS; run += 1) {
    // Chained first: the independent fleet it leaves is the one the largest steady state starts from.
    converge.chained.push(await firstConverge('chained', run));
    converge.independent.push(await firstConverge('independent', run));
  }
  // Without the converge figures, the hosts may hold another run's fleet: start the largest from empty.
  if (CONVERGE_RUNS === 0) await wipeHosts();
  const sizes: SizeFigures[] = [];
  for (const size of SIZES) sizes.push(await steadyState(size));

  const lines: string[] = [];
  const chainedMs = converge.chained.map((one) => one.passMs);
  const independentMs = converge.independent.map((one) => one.passMs);
  if (CONVERGE_RUNS > 0) {
    const instances = fleetInstances(hosts, SERVICES, PLACEMENT);
    lines.push(
      `first converge from empty hosts, ${largest} hosts, ${SERVICES} services on groups of ${GROUP_SIZE} (${instances} instances), serial ${TIMING.serial}, probe every ${TIMING.interval}, min_healthy_time ${TIMING.minHealthyTime}:`,
      `  chained by after:  ${describeRuns(chainedMs)}, at most ${Math.max(...converge.chained.map((one) => one.peakServices))} service at once`,
      `  independent        ${describeRuns(independentMs)}, at most ${Math.max(...converge.independent.map((one) => one.peakServices))} services at once`,
      `  independent / chained: ${formatRatio(median(independentMs), median(chainedMs))}; the services' own spans add up to ${formatMs(median(converge.independent.map((one) => one.serviceSpanMs)))} independent, ${formatMs(median(converge.chained.map((one) => one.serviceSpanMs)))} chained`,
    );
  }
  const wall = (runs: readonly PassFigures[]) => runs.map((one) => one.wallMs);
  const cpu = (runs: readonly PassFigures[]) => runs.map((one) => one.cpuMs);
  const restart = (runs: readonly LatencyFigures[]) => runs.map((one) => one.restartMs);
  for (const one of sizes) {
    lines.push(
      `${one.hosts} hosts (${one.instances} instances):`,
      `  idle webhook pass        ${describeRuns(wall(one.idleWebhook))}; tend CPU ${describeRuns(cpu(one.idleWebhook))}`,
      `  full pass (tend retry)   ${describeRuns(wall(one.fullPass))}; tend CPU ${describeRuns(cpu(one.fullPass))}`,
      `  webhook → first restart  ${describeRuns(restart(one.release))} (${one.serviceHosts} hosts); webhook → rollout started ${describeRuns(one.release.map((run) => run.planMs))}; whole pass ${describeRuns(one.release.map((run) => run.pass.wallMs))}, tend CPU ${describeRuns(one.release.map((run) => run.pass.cpuMs))}`,
    );
  }
  const small = sizes.at(-1)!;
  const big = sizes[0]!;
  if (small !== big) {
    const ratio = (pick: (figures: SizeFigures) => number[]) => formatRatio(median(pick(big)), median(pick(small)));
    lines.push(
      `${big.hosts} / ${small.hosts} hosts, wall (tend CPU): idle webhook pass ${ratio((f) => wall(f.idleWebhook))} (${ratio((f) => cpu(f.idleWebhook))}), full pass ${ratio((f) => wall(f.fullPass))} (${ratio((f) => cpu(f.fullPass))}), webhook → first restart ${ratio((f) => restart(f.release))} (${ratio((f) => f.release.map((run) => run.pass.cpuMs))})`,
    );
  }
  if (CONVERGE_RUNS > 0) {
    const ratio = median(independentMs) / median(chainedMs);
    lines.push(
      targetLine({ name: `first converge, ${SERVICES} independent services vs chained`, measured: ratio, limit: 0.5, shown: formatRatio(median(independentMs), median(chainedMs)), target: 'well under the chained time: ≤ 1/2' }),
    );
  }
  const restartMs = median(restart(big.release));
  lines.push(targetLine({ name: `webhook → first restart of a one-service commit at ${big.hosts} hosts`, measured: restartMs, limit: 1000, shown: formatMs(restartMs), target: '≤ 1 s' }));
  report(`daemon scale: ${SIZES.join('/')} hosts × ${SERVICES} services`, lines, {
    runs: RUNS,
    convergeRuns: CONVERGE_RUNS,
    groupSize: GROUP_SIZE,
    timing: TIMING,
    converge: { chained: converge.chained, independent: converge.independent },
    sizes: sizes.map((one) => ({
      hosts: one.hosts,
      instances: one.instances,
      idleWebhook: one.idleWebhook,
      fullPass: one.fullPass,
      release: one.release,
    })),
  });
} finally {
  await gitServer.close();
}
