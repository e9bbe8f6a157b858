import type { ConditionState, Journal, ServiceCondition } from '../state/index.js';

/** A condition as a decision states it; `since` is worked out by `nextCondition`. */
export interface ConditionFields {
  readonly state: ConditionState;
  readonly code?: string | undefined;
  readonly errorClass?: ServiceCondition['errorClass'];
  readonly message: string;
  readonly hint?: string | undefined;
  readonly desiredCommit?: string | undefined;
  readonly revertCommit?: string | undefined;
  readonly nextAttemptAt?: number | undefined;
  readonly failedHosts?: readonly string[] | undefined;
  readonly window?: string | undefined;
}

/**
 * The next condition of a service. `since` does not move while the state and its code stay the same, so
 * a service that keeps failing the same way shows since when it has, and alerts on duration can fire.
 */
export function nextCondition(previous: ServiceCondition | undefined, fields: ConditionFields, now: number): ServiceCondition {
  const same = previous !== undefined && previous.state === fields.state && previous.code === fields.code;
  return {
    state: fields.state,
    code: fields.code,
    errorClass: fields.errorClass,
    message: fields.message,
    hint: fields.hint,
    since: same ? previous.since : now,
    desiredCommit: fields.desiredCommit,
    revertCommit: fields.revertCommit,
    nextAttemptAt: fields.nextAttemptAt,
    failedHosts: fields.failedHosts,
    window: fields.window,
  };
}

/** The journal with these services' conditions replaced. */
export function withConditions(journal: Journal, updates: ReadonlyMap<string, ConditionFields>, now: number): Journal {
  if (updates.size === 0) return journal;
  const conditions = { ...journal.conditions };
  for (const [service, fields] of updates) conditions[service] = nextCondition(conditions[service], fields, now);
  return { ...journal, conditions };
}

/**
 * Conditions for exactly the services of a loaded commit: a service that left the repo is no longer shown,
 * one that is new is shown from the first pass on, as not yet looked at.
 */
export function conditionsForServices(journal: Journal, services: readonly string[], head: string, now: number): Journal {
  const wanted = new Set(services);
  const kept = Object.entries(journal.conditions).filter(([service]) => wanted.has(service));
  const missing = services.filter((service) => journal.conditions[service] === undefined);
  if (kept.length === Object.keys(journal.conditions).length && missing.length === 0) return journal;
  const conditions = Object.fromEntries(kept);
  for (const service of missing) {
    conditions[service] = nextCondition(undefined, { state: 'Progressing', message: 'not looked at yet: its hosts are observed next', desiredCommit: head }, now);
  }
  return { ...journal, conditions };
}
