import type { ErrorClass, Issue } from '../errors/index.js';
import type { HostRecord, RolloutRecord } from '../state/index.js';

/**
 * What the daemon tells on-call and scripts (`/status`, `tend status`). Plain data, derived by `statusOf`
 * from the journal after every write, so a reader never sees a half-updated pass.
 */
export type ServiceState =
  /** Every host runs the head commit and was healthy. */
  | 'Synced'
  /** A rollout of the head commit is running. */
  | 'Progressing'
  /** The last rollout failed and tend is acting on it (reverting, retrying). */
  | 'Degraded'
  /** tend reverted a bad commit; the hosts run the revert. */
  | 'RolledBack'
  /** Needs a person: invalid spec, conflict, refused auth, changed host key, failed rollback. */
  | 'Stalled'
  /** Waiting for its deploy window. */
  | 'Waiting'
  /** A host differed from git with no new commit (someone changed it by hand); tend is putting it back. */
  | 'Drifted'
  /** A person paused it (`tend pause`); nothing touches it until `tend resume`. */
  | 'Paused';

/** Every state, in the order on-call reads them: what needs a person first, what is fine last. */
export const STATES_WORST_FIRST: readonly ServiceState[] = ['Stalled', 'Degraded', 'Drifted', 'Paused', 'Progressing', 'Waiting', 'RolledBack', 'Synced'];

/** Services in the order the status page and `tend status` list them: worst state first, then by name. */
export function worstFirst(services: readonly ServiceStatus[]): ServiceStatus[] {
  return [...services].sort((a, b) => STATES_WORST_FIRST.indexOf(a.state) - STATES_WORST_FIRST.indexOf(b.state) || a.service.localeCompare(b.service));
}

export interface ServiceStatus {
  readonly service: string;
  readonly state: ServiceState;
  /** Stable code of the reason, when not Synced. */
  readonly code: string | undefined;
  readonly errorClass: ErrorClass | undefined;
  readonly message: string;
  readonly hint: string | undefined;
  /** When the service entered this state (ms since epoch). */
  readonly since: number;
  /** The commit the service should run, and the last one it was healthy at. */
  readonly desiredCommit: string | undefined;
  readonly stableCommit: string | undefined;
  /** The revert commit, for RolledBack. */
  readonly revertCommit?: string;
  /** For Degraded by a transient failure: the next attempt. */
  readonly nextAttemptAt?: number;
  readonly failedHosts?: readonly string[];
  /** For Waiting: the deploy window (cron) it waits for. */
  readonly window?: string;
}

export interface SourceStatus {
  readonly description: string;
  readonly branch: string;
  readonly head: string | undefined;
  readonly lastFetchAt: number | undefined;
  readonly lastFetchOkAt: number | undefined;
  /** The last fetch error, cleared by a successful fetch. */
  readonly error: { readonly code: string; readonly errorClass: ErrorClass; readonly message: string; readonly hint: string | undefined } | undefined;
}

export interface DaemonStatus {
  readonly version: 1;
  readonly startedAt: number;
  /**
   * False from start-up until the first pass has looked at git and the hosts: until then the services
   * shown are what the journal remembers, and `tend status` does not report convergence.
   */
  readonly settled: boolean;
  readonly source: SourceStatus;
  /** The head commit whose rollout fully converged. */
  readonly lastApplied: string | undefined;
  readonly lastAttempted: string | undefined;
  /** A repo-wide stall (invalid commit, rewritten history): no service moves until it clears. */
  readonly stalled:
    | { readonly code: string; readonly errorClass: ErrorClass; readonly message: string; readonly hint: string | undefined; readonly commit: string | undefined; readonly since: number; readonly issues: readonly Issue[] }
    | undefined;
  readonly inFlight: { readonly rolloutId: string; readonly commit: string; readonly phase: string; readonly startedAt: number } | undefined;
  readonly services: readonly ServiceStatus[];
  /** Every placement of the services above, by service then host: what each host runs and how it is. */
  readonly hosts: readonly HostStatus[];
  /** The last rollouts (one record per service), newest first; `/history` has the whole kept list. */
  readonly recentRollouts: readonly RolloutRecord[];
  /** With `ha`: the answering instance's role and who leads. Absent for a tend without ha, which always acts. */
  readonly leadership?: LeadershipStatus;
}

/**
 * Who acts among the instances of one `ha` group, as the answering instance sees it. A standby serves the
 * rest of the status from what the leader last published in etcd (`published`).
 */
export interface LeadershipStatus {
  readonly role: 'leader' | 'standby' | 'unavailable' | 'starting';
  /** The identity of the instance that answered. */
  readonly self: string;
  readonly leader: { readonly identity: string; readonly url: string } | undefined;
  /** When the leader was elected (on the leader), or first seen leading (on a standby). */
  readonly leaderSince: number | undefined;
  /** When etcd last confirmed the answering instance's lease; the lease age is the time since. */
  readonly leaseRenewedAt: number | undefined;
  readonly leaseTtlMs: number;
  /** Why the answering instance does not act now, if it does not. */
  readonly notActing: { readonly reason: string; readonly detail: string } | undefined;
  /** The last error talking to etcd, while it lasts. */
  readonly etcdError: { readonly code: string; readonly message: string } | undefined;
  /** On a standby: when the leader published the rest of this status (undefined: nothing published yet). */
  readonly publishedAt: number | undefined;
}

/** One service on one host, as the last pass that looked at it saw it. */
export interface HostStatus extends HostRecord {
  readonly service: string;
  readonly host: string;
}
