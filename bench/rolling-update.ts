/**
 * Rolling update of one service over 20 hosts, 5 at a time, each batch gated by the same HTTP probe and
 * the same dwell (5 s, then 0 s): `tend apply` against `ansible-playbook`. Target: tend ≤ 1/3 of Ansible's
 * wall time.
 * The fleet runs 10 services; tend plans all of them and touches one, Ansible is given only that one.
 *
 *   npx tsx bench/rolling-update.ts    (as root; BENCH_RUNS=3 by default)
 */
import { AnsiblePeer, ensureAnsible } from './support/ansible-peer.js';
import { expectConverged, log, startFleet, tend } from './support/bench-fleet.js';
import { releaseService, servicePort, writeTiming } from './support/fleet-repo.js';
import { expectVersion } from './support/fleet-versions.js';
import { describeRuns, formatMs, formatRatio, median, report, targetLine } from './support/stats.js';
import { expectExit } from './support/timed-process.js';

const HOSTS = 20;
const SERVICES = 10;
const SERIAL = 5;
// tend's default min_healthy_time, then none: the tools' own cost with nothing to wait for.
const DWELLS = (process.env['BENCH_DWELLS'] ?? '5,0').split(',').map(Number);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const SERVICE = 0;

await ensureAnsible(log);
const { hosts, repoDir } = await startFleet({ hosts: HOSTS, services: SERVICES, timing: timing(DWELLS[0]!) });
const peer = await AnsiblePeer.create(repoDir, hosts);
const port = servicePort(SERVICE);
const batches = Math.ceil(HOSTS / SERIAL);

function timing(dwellSeconds: number) {
  return { serial: SERIAL, interval: '1s', minHealthyTime: `${dwellSeconds}s` };
}

let version = 1;
const lines: string[] = [];
const json: Record<string, unknown>[] = [];
for (const dwell of DWELLS) {
  await writeTiming(repoDir, SERVICES, timing(dwell));
  const figures = { tend: [] as number[], ansible: [] as number[] };
  for (let run = 1; run <= RUNS; run += 1) {
    version += 1;
    await releaseService(repoDir, SERVICE, String(version));
    const applied = expectExit(await tend(['apply', '--yes', '--json', '--repo', repoDir]), [0], 'tend apply');
    await expectVersion(hosts, port, String(version), 'tend apply');
    figures.tend.push(applied.wallMs);

    version += 1;
    await releaseService(repoDir, SERVICE, String(version));
    const ansible = await peer.run([SERVICE], SERIAL, { delaySeconds: 1, retries: 30, dwellSeconds: dwell });
    if (ansible.code !== 0 || ansible.failed > 0) throw new Error(`ansible-playbook failed (exit ${ansible.code}):\n${ansible.stdout.slice(-4000)}`);
    await expectVersion(hosts, port, String(version), 'ansible-playbook');
    // The peer did tend's job exactly: tend finds the hosts as it would have left them.
    await expectConverged(repoDir, 'ansible-playbook');
    figures.ansible.push(ansible.wallMs);
    log(`dwell ${dwell} s, run ${run}/${RUNS}: tend apply ${applied.wallMs} ms, ansible-playbook ${ansible.wallMs} ms`);
  }
  const tendMs = median(figures.tend);
  const ansibleMs = median(figures.ansible);
  const dwellMs = batches * dwell * 1000;
  lines.push(
    `dwell ${dwell} s (min_healthy_time; Ansible: uri until 200, pause, uri again), ${batches} batches:`,
    `  tend apply        ${describeRuns(figures.tend)}`,
    `  ansible-playbook  ${describeRuns(figures.ansible)}`,
    ...(dwell > 0
      ? [
          `  the dwell alone: ${formatMs(dwellMs)}, so no tool can beat ${formatRatio(dwellMs, ansibleMs)} of this Ansible run`,
          `  beyond the dwell: tend ${formatMs(tendMs - dwellMs)}, Ansible ${formatMs(ansibleMs - dwellMs)}: ${formatRatio(tendMs - dwellMs, ansibleMs - dwellMs)}`,
        ]
      : []),
    '  ' + targetLine({ name: `rolling update, ${dwell} s dwell (tend apply vs ansible-playbook)`, measured: tendMs / ansibleMs, limit: 1 / 3, shown: `${formatRatio(tendMs, ansibleMs)} of Ansible's wall time`, target: '≤ 1/3' }),
  );
  json.push({ dwellSeconds: dwell, tendMs: figures.tend, ansibleMs: figures.ansible });
}
await peer.dispose();

report(`rolling update: 1 of ${SERVICES} services over ${HOSTS} hosts, serial ${SERIAL}, probe every 1 s`, lines, { runs: RUNS, hosts: HOSTS, serial: SERIAL, dwells: json });
