/**
 * Leadership among several `tend run` instances (`ha:` in the daemon config): who may act, decided
 * purely from the lease and the clock (`mayAct`), and the etcd effect that campaigns, renews the lease and
 * fences the leader's writes.
 */
export { mayAct } from './lease-decision.js';
export type { ActDecision, LeaderIdentity, LeaseState, NotActingReason } from './lease-decision.js';
export { startEtcdLeadership } from './etcd-leadership.js';
export type { EtcdCredentials, EtcdLeadershipOptions, FencedKey, Leadership } from './etcd-leadership.js';
