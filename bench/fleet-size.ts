/**
 * How load, render and plan grow with the fleet, with no host at all: generated repos of 100×10, 500×50 and
 * 2,000×150 hosts × services, laid out two ways: grouped (each service on one group of hosts, at Dyploma's
 * density of 2,550 instances on 2,000 hosts at every size: 17 hosts a service at the top size) and
 * all-on-all (every service on every host: 300,000 instances at the top size). Grouped keeps instances in
 * step with hosts, so what tend does once per host is not billed as growth beyond the instances. Per size,
 * tend's own code in this process:
 *   validate   loadRepo of the whole repo (what `tend validate` does after start-up)
 *   next commit, cached
 *              the daemon's load of a new head that bumps one service's release: the tree read from git
 *              through the reconciler's LoadCache, which holds the previous head's parts (each call loads
 *              the other of two commits, so each is a next commit that changed one service)
 *   render     one service on every host of its group (what `tend render SERVICE` does after loading)
 *   plan       a pass's preparation as the daemon runs it (preparePass: render every instance, index the
 *              renders, desired state, planRollout) against an observation served from memory, made
 *              from the render (a converged fleet), and again after one service's release is bumped
 * Each size step prints its time ratio next to its instance ratio. Target: time ratio ≤ 1.3 × instance ratio.
 * A figure is CPU time (user + system) of this process, not wall time: on a shared 2-core machine the wall
 * clock mostly measures the neighbours. It starts from a collected heap, once the collector's helper
 * threads are done with it (so one operation's garbage is not billed to the next), and repeats its
 * operation for at least 200 ms, so a 1 ms render is an average, not one noisy sample. The process runs with the daemon's NODE_OPTIONS (tend.service's young generation size):
 * it re-runs itself under them when started without.
 *
 *   npx tsx bench/fleet-size.ts        (any machine, no root: BENCH_RUNS=3 by default)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LoadCache } from '../src/spec/index.js';
import { rerunWithDaemonNodeOptions } from './support/daemon-node-options.js';
import { changedInstances, convergedObservation, loadCommit, loadFleet, planFleet, renderOneService } from './support/fleet-pipeline.js';
import { fleetInstances, releaseService, serviceName, syntheticHosts, writeFleetRepo, type FleetPlacement } from './support/fleet-repo.js';
import { nativeGit } from './support/git-native.js';
import { formatMs, median, report, targetLine } from './support/stats.js';

// Before anything is measured: V8 sizes its young generation at start-up only.
await rerunWithDaemonNodeOptions();

/** Renders of one service take well under a millisecond: show them to a hundredth rather than as 0 ms. */
function formatFigure(ms: number): string {
  return ms < 10 ? `${ms.toFixed(2)} ms` : formatMs(ms);
}

const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const SIZES = [
  { hosts: 100, services: 10 },
  { hosts: 500, services: 50 },
  { hosts: 2000, services: 150 },
] as const;
/** Dyploma: 2,550 service instances on 2,000 machines. */
const INSTANCES_PER_HOST = 2550 / 2000;
const LAYOUTS: readonly { readonly name: string; readonly placement: (hosts: number, services: number) => FleetPlacement }[] = [
  { name: 'grouped', placement: (hosts, services) => ({ kind: 'grouped', groupSize: Math.round((INSTANCES_PER_HOST * hosts) / services) }) },
  { name: 'all-on-all', placement: () => ({ kind: 'all' }) },
];
const TIMING = { serial: 5, interval: '1s', minHealthyTime: '5s' };
/** The figure's allowance over linear: each size step may cost at most this times its growth in instances. */
const SLACK = 1.3;
const OPERATIONS = ['validate', 'next commit, cached', 'render', 'plan converged', 'plan after bump'] as const;
type Operation = (typeof OPERATIONS)[number];

interface SizeFigures {
  readonly label: string;
  readonly instances: number;
  readonly ms: Record<Operation, number[]>;
}

/** Shortest time a figure is measured over; quicker operations are repeated and averaged. */
const MIN_MEASURE_MS = 200;

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

function cpuMs(since?: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

/** How long the collector may go on after a full collection before a figure starts anyway. */
const MAX_SETTLE_MS = 2000;

/**
 * A full collection, then a wait until this process's own CPU time stops growing: V8 sweeps the heap on
 * helper threads after the collection, and at 2,000 × 150 that tail (about 50 ms of CPU over a 300 MiB heap
 * of earlier work) was billed to the plan measured next.
 */
async function collectAndSettle(): Promise<void> {
  collectGarbage();
  const deadline = performance.now() + MAX_SETTLE_MS;
  let before = cpuMs();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const now = cpuMs();
    if (now - before < 1 || performance.now() > deadline) return;
    before = now;
  }
}

/** Mean CPU time of one call of `work`, over as many calls as fit in MIN_MEASURE_MS (at least one), and its last value. */
async function timed<T>(work: () => T | Promise<T>): Promise<{ value: T; ms: number }> {
  await collectAndSettle();
  let calls = 0;
  let value: T;
  const started = process.cpuUsage();
  do {
    value = await work();
    calls += 1;
  } while (cpuMs(started) < MIN_MEASURE_MS);
  return { value, ms: cpuMs(started) / calls };
}

async function measureSize(hostCount: number, services: number, placement: FleetPlacement, runs: number): Promise<SizeFigures> {
  const hosts = syntheticHosts(hostCount);
  const dir = await mkdtemp(join(tmpdir(), 'tend-bench-fleet-size-'));
  const bumpedDir = await mkdtemp(join(tmpdir(), 'tend-bench-fleet-size-bumped-'));
  const gitdir = await mkdtemp(join(tmpdir(), 'tend-bench-fleet-size-git-'));
  try {
    await writeFleetRepo(dir, { hosts, services, timing: TIMING, version: '1', placement });
    await writeFleetRepo(bumpedDir, { hosts, services, timing: TIMING, version: '1', placement });
    await nativeGit(['init', '--quiet', '--bare', gitdir]);
    const commits = [await commitTree(gitdir, bumpedDir, 'the fleet')];
    await releaseService(bumpedDir, 0, '2');
    commits.push(await commitTree(gitdir, bumpedDir, 'bump one service'));
    const bumpedRepo = await loadFleet(bumpedDir);
    const loads = new LoadCache();
    const gitCache = {};
    let next = 0;
    const loadNextCommit = () => loadCommit(gitdir, commits[(next += 1) % commits.length] ?? '', loads, gitCache);
    // The reconciler has loaded a head before the one that bumps a service.
    await loadNextCommit();
    const ms: Record<Operation, number[]> = { validate: [], 'next commit, cached': [], render: [], 'plan converged': [], 'plan after bump': [] };
    let observed: ReturnType<typeof convergedObservation> | undefined;
    for (let run = 0; run < runs; run += 1) {
      const loaded = await timed(() => loadFleet(dir));
      ms.validate.push(loaded.ms);
      ms['next commit, cached'].push((await timed(loadNextCommit)).ms);
      const repo = loaded.value;
      observed ??= convergedObservation(repo);
      const fleet = observed;
      ms.render.push((await timed(() => renderOneService(repo, serviceName(0)))).ms);
      // A copy of the repo is a new commit to the render cache: every call renders afresh, as a pass does.
      const converged = await timed(() => planFleet({ ...repo }, fleet));
      if (!converged.value.empty) throw new Error('the converged fleet planned changes: the synthetic observation is wrong');
      ms['plan converged'].push(converged.ms);
      const bumped = await timed(() => planFleet({ ...bumpedRepo }, fleet));
      const changed = changedInstances(bumped.value);
      if (changed.length !== 1 || changed[0]?.service !== serviceName(0)) throw new Error(`the bump planned ${JSON.stringify(changed)}, not one service`);
      ms['plan after bump'].push(bumped.ms);
    }
    return { label: `${hostCount}×${services}`, instances: fleetInstances(hosts, services, placement), ms };
  } finally {
    await Promise.all([dir, bumpedDir, gitdir].map((path) => rm(path, { recursive: true, force: true })));
  }
}

/** Commits the whole of `workTree` into the bare `gitdir` and returns the commit's sha. */
async function commitTree(gitdir: string, workTree: string, message: string): Promise<string> {
  const git = [`--git-dir=${gitdir}`, `--work-tree=${workTree}`, '-c', 'user.name=bench', '-c', 'user.email=bench@tend.invalid'];
  await nativeGit([...git, 'add', '--all', '.']);
  await nativeGit([...git, 'commit', '--quiet', '-m', message]);
  return nativeGit([...git, 'rev-parse', 'HEAD']);
}

// The smallest size once, unmeasured, so the first figure does not carry the JIT's warm-up.
await measureSize(SIZES[0].hosts, SIZES[0].services, { kind: 'all' }, 1);

const targets: string[] = [];
const figures: Record<string, unknown> = {};
for (const layout of LAYOUTS) {
  const sizes: SizeFigures[] = [];
  for (const size of SIZES) {
    const measured = await measureSize(size.hosts, size.services, layout.placement(size.hosts, size.services), RUNS);
    process.stderr.write(`fleet-size: ${layout.name} ${measured.label} (${measured.instances} instances) done\n`);
    sizes.push(measured);
  }
  const lines = [
    `| hosts × services | instances | ${OPERATIONS.join(' | ')} |`,
    `|---|---|${OPERATIONS.map(() => '---').join('|')}|`,
    ...sizes.map((size) => `| ${size.label} | ${size.instances.toLocaleString('en')} | ${OPERATIONS.map((op) => formatFigure(median(size.ms[op]))).join(' | ')} |`),
    '',
    `| step | instance ratio | ${OPERATIONS.map((op) => `${op} time ratio`).join(' | ')} |`,
    `|---|---|${OPERATIONS.map(() => '---').join('|')}|`,
  ];
  let worst = 0;
  let worstShown = '';
  for (let index = 1; index < sizes.length; index += 1) {
    const before = sizes[index - 1]!;
    const after = sizes[index]!;
    const instanceRatio = after.instances / before.instances;
    const cells = OPERATIONS.map((op) => {
      const timeRatio = median(after.ms[op]) / median(before.ms[op]);
      const excess = timeRatio / instanceRatio;
      if (excess > worst) {
        worst = excess;
        worstShown = `${op} ${before.label} → ${after.label}: time ×${timeRatio.toFixed(2)} for instances ×${instanceRatio.toFixed(2)}`;
      }
      return `×${timeRatio.toFixed(2)} (${excess.toFixed(2)} of instances)`;
    });
    lines.push(`| ${before.label} → ${after.label} | ×${instanceRatio.toFixed(2)} | ${cells.join(' | ')} |`);
  }
  targets.push(
    targetLine({
      name: `fleet size, ${layout.name}: worst size step`,
      measured: worst,
      limit: SLACK,
      shown: `${worstShown} (${worst.toFixed(2)}× its instance ratio)`,
      target: `time ratio ≤ ${SLACK} × instance ratio at every step`,
    }),
  );
  figures[layout.name] = sizes.map((size) => ({ size: size.label, instances: size.instances, medianMs: Object.fromEntries(OPERATIONS.map((op) => [op, median(size.ms[op])])), runsMs: size.ms }));
  report(`fleet size, ${layout.name} (CPU time, medians of ${RUNS} runs, NODE_OPTIONS=${process.env['NODE_OPTIONS'] ?? ''})`, lines, { layout: layout.name, nodeOptions: process.env['NODE_OPTIONS'] ?? '', sizes: figures[layout.name] });
}

console.log('');
for (const line of targets) console.log(line);
