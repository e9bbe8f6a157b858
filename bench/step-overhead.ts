/**
 * tend's own cost per host step, beyond the probe dwell: one service released over 20 hosts, 5 at a time,
 * with min_healthy_time 0 (the first passing probe makes a host healthy), so a step's whole duration is
 * overhead; 5 hosts at a time, then 1 at a time. Set beside the floor of what cannot be avoided, measured
 * on the same hosts over open SSH connections: a round trip, and a `sudo -n systemctl restart` until the
 * service first answers, on one host and on 5 at once. Target: ≤ 300 ms.
 *
 *   npx tsx bench/step-overhead.ts     (as root; BENCH_RUNS=3 by default)
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLIENT_KEY_PATH } from '../test/e2e/harness/layout.js';
import { connectToHost } from '../test/e2e/harness/ssh-client.js';
import { log, startFleet } from './support/bench-fleet.js';
import { releaseService, serviceName, servicePort, writeTiming } from './support/fleet-repo.js';
import { expectVersion } from './support/fleet-versions.js';
import { describeRuns, formatMs, median, repeat, report, targetLine } from './support/stats.js';

const HOSTS = 20;
const SERVICES = 10;
const SERIAL = 5;
const INTERVAL = process.env['BENCH_PROBE_INTERVAL'] ?? '1s';
const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const SERVICE = 0;
const TEND_BIN = join(resolve(fileURLToPath(new URL('..', import.meta.url))), 'bin', 'tend.js');

interface StepResult {
  readonly host: string;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly outcome: string;
}

interface TimedApply {
  readonly steps: readonly StepResult[];
  /** When each host's "restart" progress line arrived (epoch ms), i.e. when everything before it was done. */
  readonly restartAt: ReadonlyMap<string, number>;
}

/** `tend apply --json`, with the arrival time of each progress line on stderr. */
function applyWithProgress(repoDir: string): Promise<TimedApply> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [TEND_BIN, 'apply', '--yes', '--json', '--repo', repoDir], {
      env: { ...process.env, TEND_SSH_KEY: CLIENT_KEY_PATH },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const restartAt = new Map<string, number>();
    let stdout = '';
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      const now = Date.now();
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const match = /^\[\S+ (\S+)\] restart /.exec(line);
        if (match !== null) restartAt.set(match[1]!, now);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`tend apply exited ${code}:\n${stdout.slice(-4000)}`));
      const result = JSON.parse(stdout) as { result: { services: { steps: StepResult[] }[] } };
      resolvePromise({ steps: result.result.services.flatMap((service) => service.steps), restartAt });
    });
  });
}

const timing = (serial: number) => ({ serial, interval: INTERVAL, minHealthyTime: '0s' });
const { hosts, repoDir } = await startFleet({ hosts: HOSTS, services: SERVICES, timing: timing(SERIAL) });
const port = servicePort(SERVICE);

interface StepFigures {
  readonly steps: number[];
  readonly beforeRestart: number[];
  readonly restartToHealthy: number[];
}

let version = 1;
/** RUNS releases of the service with `serial` hosts per batch; every host step's figures. */
async function measureSteps(serial: number): Promise<StepFigures> {
  await writeTiming(repoDir, SERVICES, timing(serial));
  const figures: StepFigures = { steps: [], beforeRestart: [], restartToHealthy: [] };
  for (let run = 1; run <= RUNS; run += 1) {
    version += 1;
    await releaseService(repoDir, SERVICE, String(version));
    const applied = await applyWithProgress(repoDir);
    await expectVersion(hosts, port, String(version), 'tend apply');
    if (applied.steps.length !== HOSTS || applied.steps.some((step) => step.outcome !== 'healthy')) throw new Error('not every host step ended healthy');
    for (const step of applied.steps) {
      figures.steps.push(step.endedAt - step.startedAt);
      const restart = applied.restartAt.get(step.host);
      if (restart === undefined) throw new Error(`no restart line for ${step.host}`);
      figures.beforeRestart.push(restart - step.startedAt);
      figures.restartToHealthy.push(step.endedAt - restart);
    }
    log(`serial ${serial}, run ${run}/${RUNS}: median step ${formatMs(median(figures.steps.slice(-HOSTS)))}`);
  }
  return figures;
}

const batched = await measureSteps(SERIAL);
// One host at a time: the hosts share this machine's 2 cores, so in a batch of 5 their own systemd work
// (restart, reload) competes for CPU as it never would on 5 real servers.
const single = await measureSteps(1);

// The floor: what any tool pays for a restart gated by a probe, over connections already open.
const connections = await Promise.all(hosts.slice(0, SERIAL).map((host) => connectToHost(host)));
const unit = `${serviceName(SERVICE)}.service`;
const first = connections[0]!;
const roundTrip = await repeat(20, async () => {
  const started = performance.now();
  await first.execCommand('true');
  return performance.now() - started;
});
const sudoRoundTrip = await repeat(20, async () => {
  const started = performance.now();
  await first.execCommand('sudo -n true');
  return performance.now() - started;
});

async function restartUntilAnswer(index: number): Promise<number> {
  const started = performance.now();
  await connections[index]!.execCommand(`sudo -n systemctl restart ${unit}`);
  while (performance.now() - started < 10_000) {
    const answered = await fetch(`http://${hosts[index]!.address}:${port}/health`, { signal: AbortSignal.timeout(2000) }).then(
      (response) => response.ok,
      () => false,
    );
    if (answered) return performance.now() - started;
    await new Promise((wait) => setTimeout(wait, 5));
  }
  throw new Error(`${unit} on ${hosts[index]!.name} did not answer within 10 s of a restart`);
}

// systemd refuses a 6th start within 10 s (StartLimitBurst), so the samples are spaced.
const pause = () => new Promise((wait) => setTimeout(wait, 2500));
const restartAlone = await repeat(5, async () => {
  await pause();
  return restartUntilAnswer(0);
});
const restartBatched: number[] = [];
for (let sample = 0; sample < 5; sample += 1) {
  await pause();
  restartBatched.push(...(await Promise.all(connections.map((_, index) => restartUntilAnswer(index)))));
}
for (const connection of connections) connection.dispose();

const stepLines = (label: string, figures: StepFigures) => [
  `${label}: host step (start → healthy) ${formatMs(median(figures.steps))} median of ${figures.steps.length} (min ${formatMs(Math.min(...figures.steps))}, max ${formatMs(Math.max(...figures.steps))})`,
  `    start → restart issued ${formatMs(median(figures.beforeRestart))} (stage the artifact, switch \`current\`, enable)`,
  `    restart → healthy      ${formatMs(median(figures.restartToHealthy))} (restart, unit status, HTTP probe until it passes, prune old releases)`,
];
const floor = median(restartAlone);
const floorBatched = median(restartBatched);
const step = median(single.steps);
report(
  `per host step overhead: ${HOSTS} hosts, min_healthy_time 0, probe interval ${INTERVAL}`,
  [
    ...stepLines(`serial ${SERIAL}`, batched),
    ...stepLines('serial 1', single),
    `floor on one connection: SSH round trip ${describeRuns(roundTrip)}`,
    `                         sudo -n round trip ${describeRuns(sudoRoundTrip)}`,
    `                         sudo systemctl restart until /health answers, one host ${describeRuns(restartAlone)}`,
    `                         the same on ${SERIAL} hosts at once ${formatMs(floorBatched)} median of ${restartBatched.length}`,
    `step / floor: serial 1 ${(step / floor).toFixed(1)}×, serial ${SERIAL} ${(median(batched.steps) / floorBatched).toFixed(1)}× (against the ${SERIAL}-host floor)`,
    targetLine({ name: 'overhead per host step beyond the probe dwell (serial 1)', measured: step, limit: 300, shown: formatMs(step), target: '≤ 300 ms' }),
    targetLine({ name: `overhead per host step beyond the probe dwell (serial ${SERIAL}, 5 hosts on 2 shared cores)`, measured: median(batched.steps), limit: 300, shown: formatMs(median(batched.steps)), target: '≤ 300 ms' }),
  ],
  {
    runs: RUNS,
    hosts: HOSTS,
    probeInterval: INTERVAL,
    serial1: { stepMs: step, beforeRestartMs: median(single.beforeRestart), restartToHealthyMs: median(single.restartToHealthy) },
    [`serial${SERIAL}`]: { stepMs: median(batched.steps), beforeRestartMs: median(batched.beforeRestart), restartToHealthyMs: median(batched.restartToHealthy) },
    floor: { sshRoundTripMs: median(roundTrip), sudoRoundTripMs: median(sudoRoundTrip), restartUntilAnswerMs: floor, [`restartUntilAnswerOn${SERIAL}HostsMs`]: floorBatched },
  },
);
