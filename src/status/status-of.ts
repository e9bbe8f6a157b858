import type { ErrorClass } from '../errors/index.js';
import type { Journal, Pause, ServiceCondition } from '../state/index.js';
import type { DaemonStatus, HostStatus, ServiceStatus, SourceStatus } from './daemon-status.js';

/** How many rollout records `/status` and the page carry: enough for the last few commits of every service. */
export const RECENT_ROLLOUTS = 20;

/** What the daemon knows besides its journal: the source as last fetched, and how the last pass ended. */
export interface StatusFacts {
  readonly startedAt: number;
  readonly source: SourceStatus;
  /** A pass that threw, shown as a repo-wide stall until the next pass. */
  readonly passError: { readonly code: string; readonly errorClass: ErrorClass; readonly message: string; readonly hint: string | undefined; readonly at: number } | undefined;
  readonly settled: boolean;
  readonly now: number;
}

/**
 * The one view of the daemon's state that `/status`, `tend status`, the page, metrics and notifications
 * show. Pure: everything comes from the journal (so it is complete the moment tend restarts) and the facts
 * above; a pause is shown from the clock, so an expired one says so without a pass.
 */
export function statusOf(journal: Journal, facts: StatusFacts): DaemonStatus {
  const halt = journal.halted['*'];
  const services = Object.entries(journal.conditions)
    .map(([service, condition]): ServiceStatus => {
      const pause = journal.paused[service];
      const shown = pause === undefined ? fromCondition(service, condition) : pausedStatus(service, pause, condition, facts.now);
      return { ...shown, stableCommit: journal.services[service]?.stableCommit };
    })
    .sort((a, b) => a.service.localeCompare(b.service));
  const inFlight = journal.inFlight;
  return {
    version: 1,
    startedAt: facts.startedAt,
    settled: facts.settled,
    source: facts.source,
    lastApplied: journal.lastApplied,
    lastAttempted: journal.lastAttempted,
    stalled:
      halt !== undefined
        ? { code: halt.code, errorClass: halt.errorClass, message: halt.message, hint: halt.hint, commit: halt.commit, since: halt.since, issues: halt.issues }
        : facts.passError === undefined
          ? undefined
          : { code: facts.passError.code, errorClass: facts.passError.errorClass, message: facts.passError.message, hint: facts.passError.hint, commit: facts.source.head, since: facts.passError.at, issues: [] },
    inFlight: inFlight === undefined ? undefined : { rolloutId: inFlight.rolloutId, commit: inFlight.commit, phase: inFlight.phase, startedAt: inFlight.startedAt },
    services,
    hosts: services.flatMap((service) =>
      Object.entries(journal.hosts[service.service] ?? {})
        .map(([host, record]): HostStatus => ({ service: service.service, host, ...record }))
        .sort((a, b) => a.host.localeCompare(b.host)),
    ),
    recentRollouts: journal.rollouts.slice(-RECENT_ROLLOUTS).reverse(),
  };
}

function fromCondition(service: string, condition: ServiceCondition): ServiceStatus {
  return {
    service,
    state: condition.state,
    code: condition.code,
    errorClass: condition.errorClass,
    message: condition.message,
    hint: condition.hint,
    since: condition.since,
    desiredCommit: condition.desiredCommit,
    stableCommit: undefined,
    ...(condition.revertCommit === undefined ? {} : { revertCommit: condition.revertCommit }),
    ...(condition.nextAttemptAt === undefined ? {} : { nextAttemptAt: condition.nextAttemptAt }),
    ...(condition.failedHosts === undefined ? {} : { failedHosts: condition.failedHosts }),
    ...(condition.window === undefined ? {} : { window: condition.window }),
  };
}

function pausedStatus(service: string, pause: Pause, condition: ServiceCondition, now: number): ServiceStatus {
  const expired = pause.until <= now;
  const until = new Date(pause.until).toISOString();
  return {
    service,
    state: 'Paused',
    code: expired ? 'W_PAUSE_EXPIRED' : 'W_PAUSED',
    errorClass: undefined,
    message: expired ? `paused by ${pause.owner} (${pause.reason}); the pause expired at ${until} and still holds` : `paused by ${pause.owner} until ${until}: ${pause.reason}`,
    hint: `\`tend resume ${service}\` lets tend roll it out again.`,
    since: expired ? pause.until : pause.since,
    desiredCommit: condition.desiredCommit,
    stableCommit: undefined,
  };
}
