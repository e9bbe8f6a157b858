import { TendError } from '../errors/index.js';
import type { ObservedHost } from '../hosts/index.js';
import { summarizePlan } from '../plan/index.js';
import type { HostStep, Plan } from '../plan/model.js';
import { NOT_IN_LIMIT, type SkippedService } from './limit.js';

function stepLine(step: HostStep): string {
  const reasons = step.reasons.map((reason) => reason.detail).join('; ');
  return `${step.action.padEnd(9)} ${step.host}${reasons === '' ? '' : `  (${reasons})`}`;
}

/**
 * The plan for people: per service in rollout order, its batches, with why each host changes; then what
 * the named services and --limit left out, which nobody looked at or touched.
 */
export function formatPlan(plan: Plan, observed: ReadonlyMap<string, ObservedHost>, skipped: readonly SkippedService[]): string {
  const lines: string[] = [];
  const unreachable = [...observed.values()].filter((host) => !host.reachable);
  lines.push(`Observed ${observed.size} hosts${unreachable.length === 0 ? '' : `, ${unreachable.length} unreachable`}.`, '');
  for (const service of plan.services) {
    const after = service.waitsFor.length === 0 ? '' : ` (after ${service.waitsFor.join(', ')})`;
    lines.push(`${service.service}${after}`);
    service.batches.forEach((batch, index) => {
      lines.push(`  batch ${index + 1}:`);
      for (const step of batch) lines.push(`    ${stepLine(step)}`);
    });
    if (service.unchanged.length > 0) lines.push(`  unchanged: ${service.unchanged.join(', ')}`);
    for (const host of service.unreachable) lines.push(`  unreachable: ${host.host} (${host.code}: ${host.message})`);
    for (const host of service.blocked) lines.push(`  blocked: ${host.host} (${host.code}: ${host.message})`);
  }
  if (skipped.length > 0) {
    lines.push(`skipped (${NOT_IN_LIMIT}):`);
    for (const service of skipped) lines.push(`  ${service.service}: ${service.hosts.join(', ')}`);
  }
  for (const step of plan.prunes) lines.push(`prune ${step.service} on ${step.host}`);
  for (const orphan of plan.orphans) {
    lines.push(`orphan ${orphan.service} on ${orphan.host} (no longer in the repo; set prune.enabled in tend.yml to remove it)`);
  }
  const summary = summarizePlan(plan);
  const { create, update, restart, unchanged, prune } = summary.actions;
  const unplanned = [
    ...(summary.unreachable === 0 ? [] : [`${summary.unreachable} service placements could not be observed`]),
    ...(summary.blocked === 0 ? [] : [`${summary.blocked} blocked`]),
  ].join(', ');
  const limited = skipped.reduce((count, service) => count + service.hosts.length, 0);
  const left = limited === 0 ? '' : `; ${limited} skipped (${NOT_IN_LIMIT})`;
  let verdict: string;
  // "No changes" only when every placement was looked at: hosts nobody could observe may need anything.
  if (plan.empty && unplanned === '') verdict = `No changes: ${unchanged} service placements are up to date${left}.`;
  else if (plan.empty) verdict = `Incomplete: nothing to change where tend could look (${unchanged} up to date); ${unplanned}${left}.`;
  else verdict = `Plan: ${create} to create, ${update} to update, ${restart} to restart, ${prune} to prune, ${unchanged} unchanged${unplanned === '' ? '' : `; ${unplanned}`}${left}.`;
  lines.push('', verdict);
  return `${lines.join('\n')}\n`;
}

/** Hosts that could not be observed make any plan incomplete: the one error plan and apply report for it. */
export function unobservedHostsError(observed: ReadonlyMap<string, ObservedHost>): TendError | undefined {
  const unobserved = [...observed.values()].flatMap((host) => (host.reachable ? [] : [host]));
  if (unobserved.length === 0) return undefined;
  const refused = unobserved.some((host) => host.errorClass === 'conflict');
  const hosts = unobserved.map((host) => `${host.host} (${host.code})`).join(', ');
  return new TendError('E_PLAN_INCOMPLETE', refused ? 'conflict' : 'transient', `${unobserved.length} of ${observed.size} hosts could not be observed, so the plan is incomplete: ${hosts}`);
}

/**
 * The plan for scripts: the plan itself (hashes and paths, never file contents or secrets), its summary,
 * and per service the hosts the named services and --limit left out (`reason: "not in --limit"`).
 */
export function planJson(plan: Plan, observed: ReadonlyMap<string, ObservedHost>, skipped: readonly SkippedService[]): Record<string, unknown> {
  return {
    empty: plan.empty,
    summary: summarizePlan(plan),
    hosts: [...observed.values()].map((host) =>
      host.reachable ? { host: host.host, reachable: true } : { host: host.host, reachable: false, code: host.code, message: host.message },
    ),
    services: plan.services,
    prunes: plan.prunes,
    orphans: plan.orphans,
    skipped,
  };
}
