import type { DaemonStatus, ServiceState, ServiceStatus } from '../status/index.js';
import type { ErrorClass } from '../errors/index.js';

export type NotificationEvent = 'error' | 'recovery' | 'reminder';

/**
 * What an incident is about. `repo`: a repo-wide stall. `source`: the deploy repo cannot be fetched.
 * `shared`: every service failed with the same transient code at once (a host or network outage), told once
 * instead of once per service. `service`: one service.
 */
export type IncidentScope = 'service' | 'repo' | 'source' | 'shared';

export interface Notification {
  readonly event: NotificationEvent;
  /** The incident's identity (scope, commit, code): stable across its error, reminders and recovery. */
  readonly key: string;
  readonly scope: IncidentScope;
  /** The service, for scope `service`. */
  readonly service: string | undefined;
  /** Every service the incident covers (one for scope `service`). */
  readonly services: readonly string[];
  /** The state now: the failing state for error and reminder, the healthy one for a service's recovery. */
  readonly state: ServiceState | undefined;
  readonly code: string;
  readonly errorClass: ErrorClass | undefined;
  readonly message: string;
  readonly hint: string | undefined;
  readonly commit: string | undefined;
  /** When the failure began, or for a recovery when the healthy stretch began (ms since epoch). */
  readonly since: number;
  readonly at: number;
}

export interface IncidentPolicy {
  /** A recovery is told only after this long healthy, so a flapping service is one incident. */
  readonly settleMs: number;
  /** An error with the same key is not told again within this long of the last time it was. */
  readonly repeatWindowMs: number;
  /** While still failing, a reminder this long after the last word about it. Infinity: never. */
  readonly reminderMs: number;
}

export const DEFAULT_INCIDENT_POLICY: IncidentPolicy = { settleMs: 5 * 60_000, repeatWindowMs: 60 * 60_000, reminderMs: 4 * 60 * 60_000 };

interface Failure {
  /** One open incident per scope key; the key inside it may change (a new commit, a new code). */
  readonly scopeKey: string;
  readonly key: string;
  readonly scope: IncidentScope;
  readonly service: string | undefined;
  readonly services: readonly string[];
  readonly state: ServiceState;
  readonly code: string;
  readonly errorClass: ErrorClass | undefined;
  readonly message: string;
  readonly hint: string | undefined;
  readonly commit: string | undefined;
  /** The revert tend is rolling out for this service: the same failure, not a new one. */
  readonly revertCommit: string | undefined;
  readonly since: number;
}

interface Incident {
  failure: Failure;
  /** False for a relapse inside the repeat window that nobody was told about yet. */
  told: boolean;
  /** The last error or reminder, or the start of an untold relapse: when the next reminder is due from. */
  lastWordAt: number;
  healthySince: number | undefined;
}

const FAILING: ReadonlySet<ServiceState> = new Set(['Degraded', 'Stalled']);
const HEALTHY: ReadonlySet<ServiceState> = new Set(['Synced', 'RolledBack']);

/**
 * Turns successive daemon statuses into the few notifications a person wants: a failure when it starts, a
 * reminder while it lasts, a recovery once it has held. Pure apart from its memory of open incidents and
 * of recently told errors; time comes only from `now`, so reminders and settled recoveries are produced by
 * the next `observe`, and the caller must observe periodically, not only on change.
 *
 * It starts with no memory: after a restart, what is still failing is told again rather than kept silent.
 */
export class IncidentTracker {
  readonly #policy: IncidentPolicy;
  readonly #open = new Map<string, Incident>();
  /** Dedup key -> when an error with it was last told. */
  readonly #told = new Map<string, number>();

  constructor(policy: IncidentPolicy = DEFAULT_INCIDENT_POLICY) {
    this.#policy = policy;
  }

  observe(status: DaemonStatus, now: number): Notification[] {
    const failures = failuresOf(status, [...this.#open.keys()]);
    const notifications: Notification[] = [];
    const failingScopes = new Set(failures.map((failure) => failure.scopeKey));

    for (const failure of failures) {
      const incident = this.#open.get(failure.scopeKey);
      if (incident === undefined) {
        this.#open.set(failure.scopeKey, this.#opened(failure, now, notifications));
        continue;
      }
      incident.healthySince = undefined;
      const previous = incident.failure;
      // The revert of a bad commit keeps the bad commit's key, so its recovery pairs with its error.
      const handled = failure.key !== previous.key && sameFailure(previous, failure);
      incident.failure = handled ? { ...failure, key: previous.key } : failure;
      if (failure.key !== previous.key && !handled) {
        const reopened = this.#opened(failure, now, notifications);
        // Whoever heard of the earlier failure must hear of the recovery, even if this one was held back.
        incident.told ||= reopened.told;
        if (reopened.told) incident.lastWordAt = now;
      } else if (now - incident.lastWordAt >= this.#policy.reminderMs) {
        notifications.push(notificationOf('reminder', failure, now));
        incident.told = true;
        incident.lastWordAt = now;
      }
    }

    for (const [scopeKey, incident] of [...this.#open]) {
      if (failingScopes.has(scopeKey)) continue;
      const health = healthOf(incident.failure, status);
      if (health === 'absorbed') {
        // Its failure is now part of a repo-wide, source or shared incident, which speaks for it.
        this.#open.delete(scopeKey);
      } else if (health === 'pending') {
        incident.healthySince = undefined;
      } else {
        incident.healthySince ??= now;
        if (now - incident.healthySince >= this.#policy.settleMs) {
          this.#open.delete(scopeKey);
          if (incident.told) notifications.push(recoveryOf(incident.failure, status, incident.healthySince, now));
        }
      }
    }

    for (const [key, at] of [...this.#told]) if (now - at >= this.#policy.repeatWindowMs) this.#told.delete(key);
    return notifications;
  }

  #opened(failure: Failure, now: number, notifications: Notification[]): Incident {
    const toldAt = this.#told.get(failure.key);
    if (toldAt !== undefined && now - toldAt < this.#policy.repeatWindowMs) return { failure, told: false, lastWordAt: now, healthySince: undefined };
    this.#told.set(failure.key, now);
    notifications.push(notificationOf('error', failure, now));
    return { failure, told: true, lastWordAt: now, healthySince: undefined };
  }
}

/**
 * A service moving from its bad commit to tend's revert of it, with the same code, is the same failure
 * being handled; anything else with a new key is news.
 */
function sameFailure(previous: Failure, next: Failure): boolean {
  return previous.code === next.code && next.commit !== undefined && next.commit === next.revertCommit;
}

/**
 * What is failing now, with umbrella incidents first so the services they explain are folded into them:
 * a repo-wide stall, then a failing fetch, then a shared transient outage (new when every service fails
 * with one transient code; kept open while any service still fails with it), then single services.
 */
function failuresOf(status: DaemonStatus, openScopes: readonly string[]): Failure[] {
  const failures: Failure[] = [];
  const umbrellaCodes = new Set<string>();
  const stall = status.stalled;
  if (stall !== undefined) {
    umbrellaCodes.add(stall.code);
    failures.push({
      scopeKey: 'repo',
      key: keyOf('repo', stall.commit, stall.code),
      scope: 'repo',
      service: undefined,
      services: status.services.map((service) => service.service),
      state: 'Stalled',
      code: stall.code,
      errorClass: stall.errorClass,
      message: stall.message,
      hint: stall.hint,
      commit: stall.commit,
      revertCommit: undefined,
      since: stall.since,
    });
  }
  const fetchError = status.source.error;
  if (fetchError !== undefined && !umbrellaCodes.has(fetchError.code)) {
    umbrellaCodes.add(fetchError.code);
    failures.push({
      scopeKey: 'source',
      // The head does not move while fetching fails: the code alone names the outage.
      key: keyOf('source', undefined, fetchError.code),
      scope: 'source',
      service: undefined,
      services: status.services.map((service) => service.service),
      state: fetchError.errorClass === 'transient' ? 'Degraded' : 'Stalled',
      code: fetchError.code,
      errorClass: fetchError.errorClass,
      message: fetchError.message,
      hint: fetchError.hint,
      commit: status.source.head,
      revertCommit: undefined,
      since: status.source.lastFetchOkAt ?? status.source.lastFetchAt ?? status.startedAt,
    });
  }

  const failing = status.services.filter((service) => FAILING.has(service.state) && !umbrellaCodes.has(service.code ?? ''));
  const byTransientCode = new Map<string, ServiceStatus[]>();
  for (const service of failing) {
    if (service.errorClass !== 'transient' || service.code === undefined) continue;
    byTransientCode.set(service.code, [...(byTransientCode.get(service.code) ?? []), service]);
  }
  const shared = new Set<string>();
  for (const [code, members] of [...byTransientCode].sort(([a], [b]) => a.localeCompare(b))) {
    const scopeKey = `shared/${code}`;
    const everyService = members.length >= 2 && members.length === status.services.length;
    if (!everyService && !openScopes.includes(scopeKey)) continue;
    shared.add(code);
    const first = members[0] as ServiceStatus;
    const names = members.map((member) => member.service).sort();
    failures.push({
      scopeKey,
      key: keyOf('shared', undefined, code),
      scope: 'shared',
      service: undefined,
      services: names,
      state: members.some((member) => member.state === 'Stalled') ? 'Stalled' : 'Degraded',
      code,
      errorClass: 'transient',
      message: `${names.length === status.services.length ? 'every service' : `${names.length} services`} (${names.join(', ')}) failing with ${code}: ${first.message}`,
      hint: first.hint,
      commit: undefined,
      revertCommit: undefined,
      since: Math.min(...members.map((member) => member.since)),
    });
  }

  for (const service of [...failing].sort((a, b) => a.service.localeCompare(b.service))) {
    if (service.code !== undefined && shared.has(service.code) && service.errorClass === 'transient') continue;
    const code = service.code ?? `E_${service.state.toUpperCase()}`;
    failures.push({
      scopeKey: `service/${service.service}`,
      key: keyOf(`service/${service.service}`, service.desiredCommit, code),
      scope: 'service',
      service: service.service,
      services: [service.service],
      state: service.state,
      code,
      errorClass: service.errorClass,
      message: service.message,
      hint: service.hint,
      commit: service.desiredCommit,
      revertCommit: service.revertCommit,
      since: service.since,
    });
  }
  return failures;
}

function keyOf(scope: string, commit: string | undefined, code: string): string {
  return `${scope}${commit === undefined ? '' : `@${commit}`}:${code}`;
}

/** An open incident that no longer fails: healthy (may recover), pending (in motion), or folded elsewhere. */
function healthOf(failure: Failure, status: DaemonStatus): 'healthy' | 'pending' | 'absorbed' {
  switch (failure.scope) {
    case 'repo':
    case 'source':
      return 'healthy';
    case 'shared': {
      const members = status.services.filter((service) => failure.services.includes(service.service));
      return members.every((service) => HEALTHY.has(service.state)) ? 'healthy' : members.some((service) => FAILING.has(service.state)) ? 'absorbed' : 'pending';
    }
    case 'service': {
      const service = status.services.find((one) => one.service === failure.service);
      // A service removed from the repo has nothing left to fail.
      if (service === undefined || HEALTHY.has(service.state)) return 'healthy';
      return FAILING.has(service.state) ? 'absorbed' : 'pending';
    }
  }
}

function notificationOf(event: 'error' | 'reminder', failure: Failure, now: number): Notification {
  return {
    event,
    key: failure.key,
    scope: failure.scope,
    service: failure.service,
    services: failure.services,
    state: failure.state,
    code: failure.code,
    errorClass: failure.errorClass,
    message: failure.message,
    hint: failure.hint,
    commit: failure.commit,
    since: failure.since,
    at: now,
  };
}

function recoveryOf(failure: Failure, status: DaemonStatus, healthySince: number, now: number): Notification {
  const service = failure.service === undefined ? undefined : status.services.find((one) => one.service === failure.service);
  const message =
    failure.scope === 'repo'
      ? `the repository stall (${failure.code}) cleared`
      : failure.scope === 'source'
        ? `fetching the source works again (was ${failure.code})`
        : failure.scope === 'shared'
          ? `no service fails with ${failure.code} any more`
          : service === undefined
            ? `${failure.service ?? 'the service'} is no longer managed`
            : `${service.service} is ${service.state}: ${service.message}`;
  return {
    event: 'recovery',
    key: failure.key,
    scope: failure.scope,
    service: failure.service,
    services: failure.services,
    state: service?.state,
    code: failure.code,
    errorClass: failure.errorClass,
    message,
    hint: undefined,
    commit: failure.commit,
    since: healthySince,
    at: now,
  };
}
