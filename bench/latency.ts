/**
 * Commit pushed → first host restarted, through the daemon: `tend run` following a real `git http-backend`
 * server, a release of one service landed there, then either a signed push webhook sent at once (as the
 * git host would) or nothing (polling finds it). The restart time is the unit's ExecMainStartTimestamp on
 * the hosts, on CLOCK_MONOTONIC, which the containers share with this process. Target: ≤ 2 s with the
 * webhook.
 *
 *   npx tsx bench/latency.ts           (as root; BENCH_RUNS=5, BENCH_POLL_INTERVAL=10s by default)
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonUnderTest, GIT_PASSWORD, GIT_USER } from '../test/e2e/daemon-support.js';
import { GitServer } from '../test/e2e/harness/git-server.js';
import { execInHost, type TestHost } from '../test/e2e/harness/hosts.js';
import { CLIENT_KEY_PATH } from '../test/e2e/harness/layout.js';
import { log, startFleet } from './support/bench-fleet.js';
import { releaseService, serviceName } from './support/fleet-repo.js';
import { describeRuns, formatMs, median, report, targetLine } from './support/stats.js';

const HOSTS = 20;
const SERVICES = 10;
const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const POLL_INTERVAL = process.env['BENCH_POLL_INTERVAL'] ?? '10s';
const SERVICE = 0;
const REPO = 'deploy';

const { hosts, repoDir } = await startFleet({ hosts: HOSTS, services: SERVICES, timing: { serial: 5, interval: '1s', minHealthyTime: '1s' } });
const gitServer = await GitServer.start({ user: GIT_USER, password: GIT_PASSWORD });
await gitServer.createRepo(REPO, repoDir, { message: 'Bench fleet' });
const unit = `${serviceName(SERVICE)}.service`;
const artifactPath = `services/${serviceName(SERVICE)}/${serviceName(SERVICE)}`;

/** CLOCK_MONOTONIC in µs, the clock of systemd's *TimestampMonotonic properties. */
function monotonicMicros(): bigint {
  return process.hrtime.bigint() / 1000n;
}

async function mainStartMicros(host: TestHost): Promise<bigint> {
  const { stdout } = await execInHost(host, ['systemctl', 'show', '-p', 'ExecMainStartTimestampMonotonic', '--value', unit]);
  return BigInt(stdout.trim());
}

let version = 1;
/** Lands a release on the server, lets `announce` tell the daemon (or not), and returns push → first restart. */
async function measure(daemon: DaemonUnderTest, announce: () => Promise<void>): Promise<number> {
  version += 1;
  await releaseService(repoDir, SERVICE, String(version));
  const content = await readFile(join(repoDir, artifactPath), 'utf8');
  const before = await Promise.all(hosts.map(mainStartMicros));
  const commit = await gitServer.landCommit(REPO, { files: { [artifactPath]: content }, message: `Release ${serviceName(SERVICE)} ${version}` });
  const pushedAt = monotonicMicros();
  await announce();
  await daemon.waitFor(`${commit.slice(0, 12)} applied`, (status) => status.lastApplied === commit, 300_000);
  const after = await Promise.all(hosts.map(mainStartMicros));
  const restarted = after.filter((started, index) => started !== before[index]);
  if (restarted.length !== HOSTS) throw new Error(`${restarted.length} of ${HOSTS} hosts restarted ${unit}`);
  const first = restarted.reduce((a, b) => (a < b ? a : b));
  return Number(first - pushedAt) / 1000;
}

async function withDaemon(pollInterval: string, act: (daemon: DaemonUnderTest) => Promise<number[]>): Promise<number[]> {
  const stateDir = await mkdtemp(join(tmpdir(), 'tend-bench-daemon-'));
  const secretsDir = await mkdtemp(join(tmpdir(), 'tend-bench-secrets-'));
  const daemon = await DaemonUnderTest.start({ repoUrl: gitServer.repoUrl(REPO), sshKey: CLIENT_KEY_PATH, secretsDir, stateDir, pollInterval });
  try {
    const head = await gitServer.head(REPO);
    await daemon.waitFor('the converged fleet recorded as applied', (status) => status.lastApplied === head, 300_000);
    return await act(daemon);
  } finally {
    const stopped = await daemon.stop();
    if (stopped.code !== 0) log(`tend run exited ${stopped.code}`);
  }
}

try {
  const webhook = await withDaemon('1h', async (daemon) => {
    const figures: number[] = [];
    for (let run = 1; run <= RUNS; run += 1) {
      figures.push(
        await measure(daemon, async () => {
          const status = await daemon.webhook();
          if (status !== 202 && status !== 200) throw new Error(`the webhook was answered ${status}`);
        }),
      );
      log(`webhook run ${run}/${RUNS}: ${formatMs(figures.at(-1)!)}`);
    }
    return figures;
  });
  const polling = await withDaemon(POLL_INTERVAL, async (daemon) => {
    const figures: number[] = [];
    for (let run = 1; run <= RUNS; run += 1) {
      figures.push(await measure(daemon, async () => undefined));
      log(`polling run ${run}/${RUNS}: ${formatMs(figures.at(-1)!)}`);
    }
    return figures;
  });

  const webhookMs = median(webhook);
  report(
    `latency: commit pushed → first host restarted, ${HOSTS} hosts × ${SERVICES} services`,
    [
      `webhook (signed push event sent right after the push) ${describeRuns(webhook)}`,
      `polling every ${POLL_INTERVAL} (±10% jitter), no webhook   ${describeRuns(polling)}`,
      `  each release lands just after the previous pass, so it waits for the next poll (up to one interval, +10% jitter), then takes the webhook path's work`,
      targetLine({ name: 'commit → first restart with the webhook', measured: webhookMs, limit: 2000, shown: formatMs(webhookMs), target: '≤ 2 s' }),
    ],
    { runs: RUNS, hosts: HOSTS, webhookMs: webhook.map(Math.round), pollInterval: POLL_INTERVAL, pollingMs: polling.map(Math.round) },
  );
} finally {
  await gitServer.close();
}
