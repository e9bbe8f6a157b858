/**
 * No-op check of a converged fleet, 20 hosts × 10 services: `tend plan` and `tend apply` (which finds
 * nothing to do) against `ansible-playbook` re-checking every file and unit. Target: tend ≤ 1/10 of
 * Ansible's wall time.
 *
 *   npx tsx bench/noop-check.ts        (as root; BENCH_RUNS=5 by default)
 */
import { AnsiblePeer, ensureAnsible } from './support/ansible-peer.js';
import { expectConverged, log, startFleet, tend } from './support/bench-fleet.js';
import { describeRuns, formatMiB, formatRatio, median, report, targetLine } from './support/stats.js';
import { expectExit } from './support/timed-process.js';

const HOSTS = 20;
const SERVICES = 10;
const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
// The no-op run never probes; these only matter if something was not converged.
const PROBE = { delaySeconds: 1, retries: 30, dwellSeconds: 5 };

await ensureAnsible(log);
const { hosts, repoDir } = await startFleet({ hosts: HOSTS, services: SERVICES, timing: { serial: 5, interval: '1s', minHealthyTime: '5s' } });
const peer = await AnsiblePeer.create(repoDir, hosts);
const all = Array.from({ length: SERVICES }, (_, index) => index);

// The peer must see tend's fleet as converged, file for file, or it is not doing the same job.
const first = await peer.run(all, HOSTS, PROBE);
if (first.code !== 0 || first.changed !== 0) {
  throw new Error(`ansible-playbook on tend's converged fleet: exit ${first.code}, changed=${first.changed}, failed=${first.failed}:\n${first.stdout.slice(-4000)}`);
}
await expectConverged(repoDir, 'the first Ansible run');

const figures = { plan: [] as number[], apply: [] as number[], ansible: [] as number[], planRss: [] as number[], ansibleRss: [] as number[] };
for (let run = 1; run <= RUNS; run += 1) {
  const plan = expectExit(await tend(['plan', '--json', '--repo', repoDir]), [0], 'tend plan');
  const apply = expectExit(await tend(['apply', '--yes', '--json', '--repo', repoDir]), [0], 'tend apply');
  if ((JSON.parse(apply.stdout) as { applied: boolean }).applied) throw new Error('tend apply changed something on a converged fleet');
  // Ansible at its fastest: one batch of all 20 hosts (the rolling update uses serial 5).
  const ansible = await peer.run(all, HOSTS, PROBE);
  if (ansible.code !== 0 || ansible.changed !== 0) throw new Error(`ansible-playbook changed ${ansible.changed} on a converged fleet (exit ${ansible.code})`);
  figures.plan.push(plan.wallMs);
  figures.apply.push(apply.wallMs);
  figures.ansible.push(ansible.wallMs);
  figures.planRss.push(plan.maxRssKiB);
  figures.ansibleRss.push(ansible.maxRssKiB);
  log(`run ${run}/${RUNS}: tend plan ${plan.wallMs} ms, tend apply ${apply.wallMs} ms, ansible-playbook ${ansible.wallMs} ms`);
}
await peer.dispose();

const plan = median(figures.plan);
const apply = median(figures.apply);
const ansible = median(figures.ansible);
report(
  `no-op check: ${HOSTS} hosts × ${SERVICES} services, converged`,
  [
    `tend plan          ${describeRuns(figures.plan)}; peak RSS ${formatMiB(median(figures.planRss))}`,
    `tend apply (no-op) ${describeRuns(figures.apply)}`,
    `ansible-playbook   ${describeRuns(figures.ansible)}; peak RSS of the ansible-playbook process ${formatMiB(median(figures.ansibleRss))}`,
    `ratio tend plan / Ansible:  ${formatRatio(plan, ansible)}`,
    `ratio tend apply / Ansible: ${formatRatio(apply, ansible)}`,
    targetLine({ name: 'no-op check (tend apply vs ansible-playbook)', measured: apply / ansible, limit: 1 / 10, shown: `${formatRatio(apply, ansible)} of Ansible's wall time`, target: '≤ 1/10' }),
  ],
  { runs: RUNS, hosts: HOSTS, services: SERVICES, planMs: figures.plan, applyMs: figures.apply, ansibleMs: figures.ansible, planMaxRssKiB: figures.planRss },
);
