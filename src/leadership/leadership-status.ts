import type { LeadershipStatus } from '../status/index.js';
import type { ActDecision, LeaderIdentity, LeaseState } from './lease-decision.js';

/** What status shows of the leadership: the role, who leads since when, the lease's last renewal, why not acting. */
export function leadershipStatusOf(input: {
  readonly state: LeaseState;
  readonly decision: ActDecision;
  readonly self: LeaderIdentity;
  readonly renewedAt: number | undefined;
  readonly ttlMs: number;
  readonly etcdError: { readonly code: string; readonly message: string } | undefined;
  readonly publishedAt: number | undefined;
}): LeadershipStatus {
  const { state } = input;
  const role = state.kind === 'leading' ? 'leader' : state.kind;
  return {
    role,
    self: input.self.identity,
    leader: state.kind === 'leading' ? input.self : state.kind === 'standby' ? state.leader : undefined,
    leaderSince: state.kind === 'leading' ? state.electedAt : state.kind === 'standby' ? state.leaderSince : undefined,
    leaseRenewedAt: input.renewedAt,
    leaseTtlMs: input.ttlMs,
    notActing: input.decision.act ? undefined : { reason: input.decision.reason, detail: input.decision.detail },
    etcdError: input.etcdError,
    publishedAt: state.kind === 'leading' ? undefined : input.publishedAt,
  };
}
