/**
 * Whether this tend may act now: the one question every effect of a leader asks (a host step beginning, a
 * journal write, a revert push). Pure over the leadership as last seen and a monotonic clock, so a paused
 * process (GC, SIGSTOP, a slow disk) that wakes after its lease ran out answers "no" before it does
 * anything, whether or not it has heard from etcd since.
 */

/** Who leads, as the key of its candidacy in etcd says. */
export interface LeaderIdentity {
  /** What the instance calls itself (`ha.identity`, by default host name and listen address). */
  readonly identity: string;
  /** Where its API listens, so a standby can point on-call at it. */
  readonly url: string;
}

export type LeaseState =
  /** Not yet connected to etcd, or no campaign started. */
  | { readonly kind: 'starting' }
  /** Holding a lease and a candidacy, behind `leader` (undefined: the leader's key is gone, a new one is being chosen). */
  | { readonly kind: 'standby'; readonly leader: LeaderIdentity | undefined; readonly leaderSince: number | undefined }
  /**
   * Leading since `electedAt` (the wall clock, for status). `renewSentAt` is when the last keepalive that
   * etcd confirmed was *sent*, on the monotonic clock: etcd restarted the lease's TTL after that, so the
   * lease lives at least until `renewSentAt + ttlMs`.
   */
  | { readonly kind: 'leading'; readonly leaseId: string; readonly revision: string; readonly electedAt: number; readonly renewSentAt: number; readonly ttlMs: number }
  /** etcd cannot be reached or refused tend: nobody here acts. */
  | { readonly kind: 'unavailable'; readonly code: string; readonly message: string; readonly since: number };

export type ActDecision =
  | { readonly act: true; readonly until: number }
  | { readonly act: false; readonly reason: NotActingReason; readonly detail: string };

/** Why tend does not act now; status and logs carry it. */
export type NotActingReason = 'starting' | 'standby' | 'lease-expiring' | 'etcd-unavailable' | 'clock-went-back';

/**
 * A leader acts only while its lease surely lives, less `marginMs`: the time a step may need to begin
 * after the question was asked, and the disagreement between our clock's rate and etcd's. Past that it
 * stops at the next safe point, before etcd expires the lease and a standby takes over.
 */
export function mayAct(state: LeaseState, now: number, marginMs: number): ActDecision {
  switch (state.kind) {
    case 'starting':
      return { act: false, reason: 'starting', detail: 'not yet elected: campaigning for leadership in etcd' };
    case 'standby':
      return { act: false, reason: 'standby', detail: state.leader === undefined ? 'standby: no instance leads; an election is under way' : `standby: ${state.leader.identity} leads` };
    case 'unavailable':
      return { act: false, reason: 'etcd-unavailable', detail: `etcd is unavailable (${state.code}): ${state.message}` };
    case 'leading': {
      // A monotonic clock never goes back; if it seems to, the renewal time cannot be trusted.
      if (now < state.renewSentAt) return { act: false, reason: 'clock-went-back', detail: 'the clock is before the last lease renewal' };
      const until = state.renewSentAt + state.ttlMs - marginMs;
      if (now >= until) {
        return { act: false, reason: 'lease-expiring', detail: `the lease was last renewed ${Math.round((now - state.renewSentAt) / 1000)}s ago; it may expire before a step could finish beginning` };
      }
      return { act: true, until };
    }
  }
}
