/**
 * Leadership among several `tend run` instances (`ha:` in the daemon config): who may act, decided
 * purely from the lease and the clock (`mayAct`), and the etcd effect that campaigns, renews the lease and
 * fences the leader's writes.
 */
import type { EtcdLeadershipOptions, Leadership } from './etcd-leadership.js';

export { mayAct } from './lease-decision.js';
export type { ActDecision, LeaderIdentity, LeaseState, NotActingReason } from './lease-decision.js';
export type { EtcdCredentials, EtcdLeadershipOptions, Leadership } from './etcd-leadership.js';
export { journalOf, journalParts, publishedStatusOf, statusParts } from './etcd-documents.js';
export type { DocumentParts, EtcdDocument, PublishedStatus } from './etcd-documents.js';
export { leadershipStatusOf } from './leadership-status.js';

/** etcd3 brings gRPC, most of a second to import: only a tend with `ha` loads it, and every other command starts as fast as before. */
export async function startEtcdLeadership(options: EtcdLeadershipOptions): Promise<Leadership> {
  const etcd = await import('./etcd-leadership.js');
  return etcd.startEtcdLeadership(options);
}
