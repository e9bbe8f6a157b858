import { orderServices } from '../plan/index.js';
import type { Plan, ServicePlan } from '../plan/model.js';
import { shortCommit } from '../source/commit-id.js';
import { pathBearsOn } from '../spec/index.js';
import type { ServiceSpec } from '../spec/model.js';
import type { Journal } from '../state/index.js';
import { nextCondition, type ConditionFields } from './conditions.js';
import { windowOpen } from './deploy-window.js';
import { backoffUntil, budgetSpent } from './retry-budget.js';

/** Why a pass runs. A full resync re-plans a converged head (drift); the others act only on something new. */
export type PassReason = 'startup' | 'poll' | 'webhook' | 'watch' | 'resync' | 'retry' | 'operator' | 'follow-up';

/** Why a service does not act in this pass. */
export type Hold =
  /** Halted (a person, a new commit, or a granted attempt lifts it); its condition was set when it halted. */
  | { readonly kind: 'halted' }
  | { readonly kind: 'paused' }
  /** A transient failure's backoff has not ended. */
  | { readonly kind: 'backoff'; readonly until: number }
  /** Healthy at this head already; only a resync, start-up or an operator looks again (drift). */
  | { readonly kind: 'settled' }
  | { readonly kind: 'window'; readonly window: string }
  | { readonly kind: 'dependency'; readonly on: readonly string[] };

/** Reasons that look again at services already healthy at the head. */
const LOOKS_AGAIN: ReadonlySet<PassReason> = new Set(['startup', 'resync', 'operator']);

/**
 * What holds a service before its hosts are observed: a halt, a pause, a backoff, or being healthy at the
 * head already. Pure. A pass whose every service is held observes no host at all, so neither polls nor
 * webhooks can turn a stalled service into a storm of attempts.
 */
export function holdBeforeObserve(spec: ServiceSpec, held: ReadonlyMap<string, Hold>, journal: Journal, head: string, reason: PassReason, now: number): Hold | undefined {
  const service = spec.name;
  const halt = journal.halted[service];
  if (halt !== undefined) {
    // A spent budget with an attempt granted (`tend retry`, a scheduled resync) may make that one attempt.
    const granted = halt.code === 'E_RETRIES_EXHAUSTED' && !budgetSpent(journal, service, head);
    if (!granted) return { kind: 'halted' };
  }
  if (journal.paused[service] !== undefined) return { kind: 'paused' };
  const until = backoffUntil(journal, service, head, now);
  if (until !== undefined) return { kind: 'backoff', until };
  const condition = journal.conditions[service];
  const healthyAtHead = journal.services[service]?.stableCommit === head && (condition?.state === 'Synced' || condition?.state === 'RolledBack');
  if (healthyAtHead && !LOOKS_AGAIN.has(reason) && journal.inFlight === undefined) return { kind: 'settled' };
  const on = spec.after.filter((name) => blocksDependents(held.get(name), journal, name, head));
  return on.length === 0 ? undefined : { kind: 'dependency', on };
}

/** Holds every service before its hosts are observed, in `after:` order so a hold passes down the chain. */
export function holdAllBeforeObserve(specs: readonly ServiceSpec[], journal: Journal, head: string, reason: PassReason, now: number): Map<string, Hold> {
  const held = new Map<string, Hold>();
  for (const spec of orderServices(specs)) {
    const hold = holdBeforeObserve(spec, held, journal, head, reason, now);
    if (hold !== undefined) held.set(spec.name, hold);
  }
  return held;
}

/** A held service holds what comes after it, unless it is healthy at the head anyway (settled, or paused there). */
function blocksDependents(hold: Hold | undefined, journal: Journal, service: string, head: string): boolean {
  if (hold === undefined || hold.kind === 'settled') return false;
  return !(hold.kind === 'paused' && journal.services[service]?.stableCommit === head);
}

/**
 * What holds a service once the plan is known: its deploy window (a rollback never waits for one: it
 * restores health), or a service it comes `after` that is held or not healthy at the head.
 */
export function holdAfterPlan(
  plan: ServicePlan,
  spec: ServiceSpec,
  held: ReadonlyMap<string, Hold>,
  journal: Journal,
  head: string,
  now: number,
  isRollback: boolean,
): Hold | undefined {
  const acts = plan.batches.length > 0 || plan.unreachable.length > 0 || plan.blocked.length > 0;
  if (!acts) return undefined;
  if (plan.batches.length > 0 && !isRollback && spec.deploy.window !== undefined && !windowOpen(spec.deploy.window, now)) return { kind: 'window', window: spec.deploy.window };
  const on = plan.waitsFor.filter((name) => blocksDependents(held.get(name), journal, name, head));
  return on.length === 0 ? undefined : { kind: 'dependency', on };
}

/** The plan with only the services that act, and the holds of the others. */
export function gatePlan(
  plan: Plan,
  specs: ReadonlyMap<string, ServiceSpec>,
  heldBefore: ReadonlyMap<string, Hold>,
  journal: Journal,
  head: string,
  now: number,
  isRollback: boolean,
): { readonly plan: Plan; readonly held: ReadonlyMap<string, Hold> } {
  const held = new Map(heldBefore);
  const acting: ServicePlan[] = [];
  // In `after:` order, so a service held here holds what comes after it too.
  for (const service of plan.services) {
    if (held.has(service.service)) continue;
    const spec = specs.get(service.service);
    const hold = spec === undefined ? undefined : holdAfterPlan(service, spec, held, journal, head, now, isRollback);
    if (hold === undefined) acting.push(service);
    else held.set(service.service, hold);
  }
  const empty = acting.every((one) => one.batches.length === 0) && plan.prunes.length === 0;
  return { plan: { ...plan, services: acting, empty }, held };
}

/** The condition a hold shows; undefined where the service's condition already says it (halt, pause, backoff). */
export function conditionOfHold(hold: Hold, head: string): ConditionFields | undefined {
  switch (hold.kind) {
    case 'window':
      return { state: 'Waiting', code: 'W_DEPLOY_WINDOW', message: `waits for its deploy window (${hold.window})`, desiredCommit: head, window: hold.window };
    case 'dependency':
      return { state: 'Waiting', code: 'W_DEPENDENCY', message: `waits for ${hold.on.join(', ')} to be healthy at ${shortCommit(head)}`, desiredCommit: head };
    default:
      return undefined;
  }
}

/**
 * Services a new head leaves as they were: healthy (Synced or RolledBack) at an earlier commit, and no commit
 * since changed their folder or the repo-wide files, so their desired state at the head is the one their
 * hosts were proven healthy at. They become healthy at the head without a host being looked at; a pass
 * for a commit that touches one service observes only that service's hosts. `changedSince` gives the paths
 * changed from a commit to the head, or undefined when it is not an ancestor. Drift is the resync's to find.
 */
export function carryForward(journal: Journal, head: string, services: readonly string[], changedSince: (commit: string) => readonly string[] | undefined, now: number): Journal {
  const records = { ...journal.services };
  const conditions = { ...journal.conditions };
  let carried = false;
  for (const service of services) {
    const stable = journal.services[service];
    const condition = journal.conditions[service];
    if (stable === undefined || stable.stableCommit === head || condition === undefined) continue;
    if (condition.desiredCommit !== stable.stableCommit || (condition.state !== 'Synced' && condition.state !== 'RolledBack')) continue;
    if (journal.halted[service] !== undefined || journal.paused[service] !== undefined || journal.retries[service] !== undefined) continue;
    const changed = changedSince(stable.stableCommit);
    if (changed === undefined || changed.some((path) => pathBearsOn(service, path) !== 'none')) continue;
    records[service] = { stableCommit: head, since: now };
    conditions[service] = nextCondition(condition, { state: 'Synced', message: 'every host runs the desired commit and is healthy (nothing since its last healthy commit changed it)', desiredCommit: head }, now);
    carried = true;
  }
  return carried ? { ...journal, services: records, conditions } : journal;
}
