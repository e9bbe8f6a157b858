import { InternalError } from '../errors/index.js';
import type { ObservedHost, ObservedService } from '../hosts/observed.js';
import type { PruneSettings, ServiceSpec } from '../spec/model.js';
import { splitIntoBatches } from './batches.js';
import { comparePlacement } from './compare-placement.js';
import { compareText } from './compare-text.js';
import type { DesiredPlacement, DesiredState, HostStep, KnownRun, Orphan, Plan, PlanResult, ServicePlan, SkippedHost } from './model.js';
import { orderServices } from './order-services.js';
import { foreignUnitMessage, pruneLimitError } from './plan-codes.js';

export interface PlanOptions {
  readonly prune: PruneSettings;
  /**
   * Hosts whose files already match but whose health at this commit was never seen: an interrupted rollout
   * (tend killed mid-probe) left them there. Matching files prove nothing about a version that may be
   * failing, so they are judged again, ahead of the hosts that still need the change: from the run the
   * interrupted rollout started (`judge`), so a tend restarted again and again cannot keep moving
   * healthy_deadline, or by a new restart when that run is not known (`restart`).
   */
  readonly resume?: (service: string, host: string) => ResumePoint | undefined;
  /**
   * The desired state holds only some of the repo's services (a pass that looks at what a commit touched):
   * the observed hosts' other services are not leftovers, so nothing is pruned or reported as orphaned.
   */
  readonly partial?: boolean;
}

export type ResumePoint = { readonly kind: 'restart' } | { readonly kind: 'judge'; readonly run: KnownRun };

/**
 * Desired vs observed -> what to change, where, in which order and in which batches. Pure: the same inputs
 * always give the same plan. Refuses (E_PRUNE_LIMIT) a plan that would prune too much; a desired state
 * that breaks the planner's invariants (duplicate placements, an after: cycle) is tend's bug and throws
 * an InternalError.
 */
export function planRollout(desired: DesiredState, observed: readonly ObservedHost[], options: PlanOptions): PlanResult {
  const hosts = indexHosts(observed);
  const placed = placedHosts(desired);
  const judgedByService = judgePlacements(desired, hosts, options.resume);

  const services = orderServices(desired.services).map((spec) => planService(spec, judgedByService.get(spec.name) ?? []));

  const leftovers = options.partial === true ? [] : findLeftovers(desired, placed, observed);
  const prunes = options.prune.enabled ? leftovers.map(pruneStep) : [];
  const orphans: Orphan[] = options.prune.enabled ? [] : leftovers.map(({ service, host }) => ({ service, host }));
  const empty = prunes.length === 0 && services.every((service) => service.batches.length === 0);
  const plan: Plan = { services, prunes, orphans, empty };

  if (options.prune.enabled && prunes.length > 0) {
    const managed = countManaged(observed);
    if (prunes.length / managed > options.prune.maxFraction) {
      return { ok: false, error: pruneLimitError(prunes.length, managed, options.prune.maxFraction), plan };
    }
  }
  return { ok: true, plan };
}

/** One placement compared with its host: a step (unchanged or not), or the reason it cannot be planned. */
type Judged =
  | { readonly host: string; readonly kind: 'step'; readonly step: HostStep }
  | { readonly host: string; readonly kind: 'unreachable'; readonly skipped: SkippedHost }
  | { readonly host: string; readonly kind: 'blocked'; readonly skipped: SkippedHost };

function judgePlacement(placement: DesiredPlacement, host: ObservedHost, resume: PlanOptions['resume']): Judged {
  if (!host.reachable) {
    return { host: host.host, kind: 'unreachable', skipped: { host: host.host, code: host.code, errorClass: host.errorClass, message: host.message } };
  }
  const foreign = host.foreignUnits.length === 0 ? [] : placement.files.map((file) => file.path).filter((path) => host.foreignUnits.includes(path));
  if (foreign.length > 0) {
    return { host: host.host, kind: 'blocked', skipped: { host: host.host, code: 'E_FOREIGN_UNIT', errorClass: 'conflict', message: foreignUnitMessage(foreign) } };
  }
  const compared = comparePlacement(placement, host.services.get(placement.service));
  const point = compared.action === 'unchanged' ? resume?.(placement.service, compared.host) : undefined;
  return { host: host.host, kind: 'step', step: point === undefined ? compared : reverifyStep(compared, point) };
}

function planService(spec: ServiceSpec, judged: readonly Judged[]): ServicePlan {
  const changing: HostStep[] = [];
  const unchanged: string[] = [];
  const unreachable: SkippedHost[] = [];
  const blocked: SkippedHost[] = [];

  for (const one of [...judged].sort((a, b) => compareText(a.host, b.host))) {
    if (one.kind === 'unreachable') unreachable.push(one.skipped);
    else if (one.kind === 'blocked') blocked.push(one.skipped);
    else if (one.step.action === 'unchanged') unchanged.push(one.host);
    else changing.push(one.step);
  }
  // Re-verified hosts go first, so a version that fails there fails as the canary did, before it spreads.
  changing.sort((a, b) => Number(isReverify(b)) - Number(isReverify(a)));

  return {
    service: spec.name,
    waitsFor: [...spec.after],
    hostCount: judged.length,
    batches: splitIntoBatches(changing, spec.deploy, judged.length),
    unchanged,
    unreachable,
    blocked,
  };
}

function reverifyStep(step: HostStep, point: ResumePoint): HostStep {
  if (point.kind === 'judge') {
    const detail = `an interrupted rollout started run ${point.run.invocationId} at this commit; judging it from its start`;
    return { ...step, action: 'restart', reasons: [{ what: 'unverified', detail }], judgeRun: point.run };
  }
  return { ...step, action: 'restart', reasons: [{ what: 'unverified', detail: 'an interrupted rollout never saw this host healthy at this commit' }] };
}

function isReverify(step: HostStep): boolean {
  return step.reasons.some((reason) => reason.what === 'unverified');
}

function indexHosts(observed: readonly ObservedHost[]): Map<string, ObservedHost> {
  const hosts = new Map<string, ObservedHost>();
  for (const host of observed) {
    if (hosts.has(host.host)) throw new InternalError(`host ${host.host} was observed twice`);
    hosts.set(host.host, host);
  }
  return hosts;
}

/**
 * Every placement judged against its host, in the order the placements come: a pass renders host by host,
 * so the comparisons walk each host's observation once, in memory order. Walking service by service across
 * 2,000 hosts made each comparison a cache miss: a plan of 300,000 instances cost 2.3 µs each against
 * 0.3 µs at 25,000.
 */
function judgePlacements(desired: DesiredState, hosts: ReadonlyMap<string, ObservedHost>, resume: PlanOptions['resume']): Map<string, Judged[]> {
  const names = new Set(desired.services.map((service) => service.name));
  const byService = new Map<string, Judged[]>();
  for (const placement of desired.placements) {
    if (!names.has(placement.service)) throw new InternalError(`placement of unknown service ${placement.service}`);
    const host = hosts.get(placement.host);
    // Every placed host must have been looked at (or have failed to be): planning blind would read as "create".
    if (host === undefined) throw new InternalError(`host ${placement.host} was placed but not observed`);
    const judged = judgePlacement(placement, host, resume);
    const list = byService.get(placement.service);
    if (list === undefined) byService.set(placement.service, [judged]);
    else list.push(judged);
  }
  return byService;
}

/** Service -> the hosts it is placed on; a placement made twice is tend's bug. */
function placedHosts(desired: DesiredState): Map<string, Set<string>> {
  const placed = new Map<string, Set<string>>();
  for (const placement of desired.placements) {
    let hosts = placed.get(placement.service);
    if (hosts === undefined) {
      hosts = new Set();
      placed.set(placement.service, hosts);
    }
    if (hosts.has(placement.host)) throw new InternalError(`${placement.service} is placed on ${placement.host} twice`);
    hosts.add(placement.host);
  }
  return placed;
}

interface Leftover {
  readonly service: string;
  readonly host: string;
  readonly observed: ObservedService;
  /** Whether the service is still in the repo (then only this host left its group). */
  readonly stillInRepo: boolean;
}

/** Managed services on reachable hosts that the repo no longer places there. Unreachable hosts tell us nothing. */
function findLeftovers(desired: DesiredState, placed: ReadonlyMap<string, ReadonlySet<string>>, observed: readonly ObservedHost[]): Leftover[] {
  const inRepo = new Set(desired.services.map((service) => service.name));
  const leftovers: Leftover[] = [];
  for (const host of observed) {
    if (!host.reachable) continue;
    for (const [service, observedService] of host.services) {
      if (placed.get(service)?.has(host.host) === true) continue;
      leftovers.push({ service, host: host.host, observed: observedService, stillInRepo: inRepo.has(service) });
    }
  }
  return leftovers.sort((a, b) => compareText(a.service, b.service) || compareText(a.host, b.host));
}

function pruneStep(leftover: Leftover): HostStep {
  const detail = leftover.stillInRepo
    ? `${leftover.host} is no longer in ${leftover.service}'s group`
    : `${leftover.service} is no longer in the repo`;
  const deletes = [...leftover.observed.files.keys()].sort(compareText);
  return {
    host: leftover.host,
    service: leftover.service,
    action: 'prune',
    reasons: [{ what: 'removed', detail }],
    writes: [],
    deletes,
    release: undefined,
    releasePresent: false,
    // Removing a unit file leaves systemd holding a unit that no longer exists on disk.
    needsDaemonReload: deletes.length > 0,
  };
}

/**
 * The prune limit is a fraction of managed service instances (service x host) on the reachable hosts, not
 * of service names: a host dropped from a group prunes instances while every name stays in the repo.
 */
function countManaged(observed: readonly ObservedHost[]): number {
  return observed.reduce((sum, host) => sum + (host.reachable ? host.services.size : 0), 0);
}
