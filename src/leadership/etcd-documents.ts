import { journalFromText, journalText, type Journal, type JournalReadResult } from '../state/index.js';
import type { DaemonStatus, HostStatus } from '../status/index.js';

/**
 * How the journal and the published status are laid out over etcd keys. Each is a document of several
 * parts: `main` (what is small and changes at every step), the journal's `rollouts` (the kept history,
 * which changes only when a rollout ends), and `hosts/NN`, the per-host records spread over HOST_BUCKETS
 * keys by service name. A host step changes one service's records, so a write sends `main` and one bucket
 * instead of every host of the fleet: at 2,000 hosts and 2,550 placements the whole journal is about
 * 1 MiB, most of etcd's default request limit (1.5 MiB), and etcd keeps every revision until compaction.
 * Buckets rather than a key per service keep a whole write within etcd's 128 operations a transaction, so
 * a write is still one fenced transaction, all or nothing.
 */
export type DocumentParts = ReadonlyMap<string, string>;

export type EtcdDocument = 'journal' | 'status';

/** What the leader publishes for its standbys: its status, and when. */
export interface PublishedStatus {
  readonly publishedAt: number;
  readonly status: DaemonStatus;
}

const HOST_BUCKETS = 32;

/** The parts of a journal; one that would not read back is refused (InternalError) as for the file. */
export function journalParts(journal: Journal): DocumentParts {
  const { hosts, rollouts, ...main } = JSON.parse(journalText(journal)) as Journal;
  return new Map([['main', JSON.stringify(main)], ['rollouts', JSON.stringify(rollouts)], ...bucketParts(hosts)]);
}

/** The journal from its parts, checked as a journal file is; `missing` when no leader wrote one yet. */
export function journalOf(parts: DocumentParts, source: string): JournalReadResult {
  const main = parts.get('main');
  if (main === undefined) return { kind: 'missing' };
  let whole: string;
  try {
    whole = JSON.stringify({ ...(JSON.parse(main) as object), rollouts: JSON.parse(parts.get('rollouts') ?? '[]') as unknown, hosts: mergedBuckets(parts) });
  } catch (error) {
    return { kind: 'corrupt', reason: `a part of the journal in etcd is not JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  return journalFromText(whole, source);
}

export function statusParts(published: PublishedStatus): DocumentParts {
  const { hosts, ...status } = published.status;
  const byService: Record<string, HostStatus[]> = {};
  for (const host of hosts) (byService[host.service] ??= []).push(host);
  return new Map([['main', JSON.stringify({ publishedAt: published.publishedAt, status })], ...bucketParts(byService)]);
}

/** The published status from its parts; undefined when nothing (readable) was published. */
export function publishedStatusOf(parts: DocumentParts | undefined): PublishedStatus | undefined {
  const main = parts?.get('main');
  if (parts === undefined || main === undefined) return undefined;
  try {
    const value = JSON.parse(main) as { publishedAt?: unknown; status?: unknown };
    if (typeof value.publishedAt !== 'number' || typeof value.status !== 'object' || value.status === null) return undefined;
    const status = value.status as Omit<DaemonStatus, 'hosts'>;
    const byService = mergedBuckets(parts) as Record<string, HostStatus[]>;
    // statusOf lists hosts in the order of its services; the buckets keep each service's own order.
    return { publishedAt: value.publishedAt, status: { ...status, hosts: status.services.flatMap((service) => byService[service.service] ?? []) } };
  } catch {
    return undefined;
  }
}

/** What a write must send to turn the parts etcd holds (`written`) into `next`. */
export function partChanges(written: DocumentParts, next: DocumentParts): { readonly put: readonly (readonly [string, string])[]; readonly remove: readonly string[] } {
  return { put: [...next].filter(([key, text]) => written.get(key) !== text), remove: [...written.keys()].filter((key) => !next.has(key)) };
}

function bucketParts(byService: Readonly<Record<string, unknown>>): [string, string][] {
  const buckets = new Map<string, Record<string, unknown>>();
  for (const [service, value] of Object.entries(byService)) {
    const key = bucketKey(service);
    const bucket = buckets.get(key) ?? {};
    bucket[service] = value;
    buckets.set(key, bucket);
  }
  return [...buckets].map(([key, bucket]) => [key, JSON.stringify(bucket)]);
}

function mergedBuckets(parts: DocumentParts): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  for (const [key, text] of parts) if (key.startsWith('hosts/')) Object.assign(merged, JSON.parse(text) as Record<string, unknown>);
  return merged;
}

/** FNV-1a over the name: stable across versions and machines, so every instance finds a service in the same key. */
function bucketKey(service: string): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < service.length; index += 1) {
    hash ^= service.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return bucketName(hash % HOST_BUCKETS);
}

function bucketName(index: number): string {
  return `hosts/${String(index).padStart(2, '0')}`;
}
