/**
 * How observe and plan grow with the fleet: 10, 20, 50 and 100 hosts, each running the same 10 services.
 * Per size: `tend plan` as a user runs it (whole process: wall time and peak RSS from /usr/bin/time -v),
 * and observation alone, timed in this process around tend's own observeHosts, cold (new connections,
 * as the CLI pays) and warm (connections kept, as the daemon pays on every pass).
 * Targets: observe 100 hosts ≤ 5 s; peak RSS ≤ 120 MB at 100 hosts.
 *
 *   npx tsx bench/scale.ts             (as root; BENCH_RUNS=3, BENCH_SIZES=10,20,50,100 by default)
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OBSERVE_SCRIPT, observeArgv, observeHosts, openFleet } from '../src/hosts/index.js';
import { directoryReader, loadRepo } from '../src/spec/index.js';
import { CLIENT_KEY_PATH } from '../test/e2e/harness/layout.js';
import { connectToHost } from '../test/e2e/harness/ssh-client.js';
import { log, startFleet, tend } from './support/bench-fleet.js';
import { writeFleetRepo } from './support/fleet-repo.js';
import { describeRuns, formatMiB, formatMs, median, repeat, report, targetLine } from './support/stats.js';
import { expectExit } from './support/timed-process.js';

const SIZES = (process.env['BENCH_SIZES'] ?? '10,20,50,100').split(',').map(Number);
const SERVICES = 10;
const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const TIMING = { serial: 5, interval: '1s', minHealthyTime: '5s' };
const largest = Math.max(...SIZES);

// Every service on all hosts of the largest fleet; a smaller fleet is the same repo with fewer hosts.
const { hosts } = await startFleet({ hosts: largest, services: SERVICES, timing: TIMING });

interface SizeFigures {
  readonly hosts: number;
  readonly planMs: number[];
  readonly planRssKiB: number[];
  readonly planCpuMs: number[];
  readonly coldMs: number[];
  readonly warmMs: number[];
}

async function observeFigures(repoDir: string): Promise<{ cold: number; warm: number }> {
  const loaded = await loadRepo(directoryReader(repoDir));
  if (!loaded.ok) throw new Error(`the bench repo is invalid: ${loaded.issues.map((issue) => issue.message).join('; ')}`);
  const { inventory, settings } = loaded.repo;
  const pool = openFleet({ privateKeyPath: CLIENT_KEY_PATH, concurrency: settings.concurrency });
  try {
    const observeAll = async () => {
      const started = performance.now();
      const observed = await observeHosts(pool, inventory.hosts);
      const unreachable = [...observed.values()].filter((host) => !host.reachable);
      if (unreachable.length > 0) throw new Error(`${unreachable.length} hosts could not be observed: ${unreachable.map((host) => host.host).join(', ')}`);
      return performance.now() - started;
    };
    return { cold: await observeAll(), warm: await observeAll() };
  } finally {
    await pool.close();
  }
}

const results: SizeFigures[] = [];
for (const size of SIZES) {
  const repoDir = await writeFleetRepo(await mkdtemp(join(tmpdir(), `tend-bench-scale-${size}-`)), { hosts: hosts.slice(0, size), services: SERVICES, timing: TIMING, version: '1' });
  const figures: SizeFigures = { hosts: size, planMs: [], planRssKiB: [], planCpuMs: [], coldMs: [], warmMs: [] };
  for (let run = 1; run <= RUNS; run += 1) {
    const plan = expectExit(await tend(['plan', '--json', '--repo', repoDir]), [0], `tend plan of ${size} hosts`);
    figures.planMs.push(plan.wallMs);
    figures.planRssKiB.push(plan.maxRssKiB);
    figures.planCpuMs.push(plan.cpuMs);
    const observe = await observeFigures(repoDir);
    figures.coldMs.push(observe.cold);
    figures.warmMs.push(observe.warm);
  }
  log(`${size} hosts: tend plan ${formatMs(median(figures.planMs))}, ${formatMiB(median(figures.planRssKiB))}; observe cold ${formatMs(median(figures.coldMs))}, warm ${formatMs(median(figures.warmMs))}`);
  results.push(figures);
}

// What observing costs a host itself: the observe script over an open connection, the hosts otherwise idle.
// Here every host shares this machine's 2 cores, so n hosts take at least n × this / 2 of wall time.
const connection = await connectToHost(hosts[0]!);
const hostScript = await repeat(10, async () => {
  const started = performance.now();
  const result = await connection.execCommand(['sudo', '-n', ...observeArgv()].join(' '), { stdin: OBSERVE_SCRIPT });
  if (result.code !== 0) throw new Error(`the observe script failed on ${hosts[0]!.name}: ${result.stderr}`);
  return performance.now() - started;
});
connection.dispose();

const lines = [`${'hosts'.padStart(5)}  ${'tend plan'.padEnd(44)}  its CPU   peak RSS   observe cold / warm (in process)`];
for (const figures of results) {
  lines.push(
    `${String(figures.hosts).padStart(5)}  ${describeRuns(figures.planMs).padEnd(44)}  ${formatMs(median(figures.planCpuMs)).padEnd(8)}  ${formatMiB(median(figures.planRssKiB)).padEnd(9)}  ${formatMs(median(figures.coldMs))} / ${formatMs(median(figures.warmMs))}`,
  );
}
const smallest = results[0]!;
const biggest = results.at(-1)!;
const growth = (pick: (figures: SizeFigures) => number[]) => (median(pick(biggest)) - median(pick(smallest))) / (biggest.hosts - smallest.hosts);
lines.push(
  `growth per added host (${smallest.hosts} → ${biggest.hosts}): tend plan ${formatMs(growth((f) => f.planMs))}, peak RSS ${formatMiB(growth((f) => f.planRssKiB))}, observe cold ${formatMs(growth((f) => f.coldMs))}, warm ${formatMs(growth((f) => f.warmMs))}`,
);
lines.push(
  `observe script on one host, over an open connection: ${describeRuns(hostScript)}; ${largest} hosts on 2 shared cores: ≥ ${formatMs((largest * median(hostScript)) / 2)} of host work alone`,
);
if (biggest.hosts === 100) {
  const observe = median(biggest.planMs);
  const rssMiB = median(biggest.planRssKiB) / 1024;
  lines.push(
    targetLine({ name: 'observe 100 hosts (whole `tend plan`, cold)', measured: observe, limit: 5000, shown: formatMs(observe), target: '≤ 5 s' }),
    targetLine({ name: 'peak RSS of `tend plan` at 100 hosts', measured: rssMiB, limit: 120, shown: `${rssMiB.toFixed(1)} MiB`, target: '≤ 120 MB' }),
  );
}
report(`scale: observe and plan, ${SIZES.join('/')} hosts × ${SERVICES} services`, lines, {
  runs: RUNS,
  observeScriptMs: hostScript.map(Math.round),
  sizes: results.map((figures) => ({
    hosts: figures.hosts,
    planMs: figures.planMs,
    planMaxRssKiB: figures.planRssKiB,
    planCpuMs: figures.planCpuMs,
    observeColdMs: figures.coldMs.map(Math.round),
    observeWarmMs: figures.warmMs.map(Math.round),
  })),
});
