import { Etcd3, EtcdAuthenticationFailedError, EtcdInvalidAuthTokenError, EtcdLeaseInvalidError, EtcdPermissionDeniedError, type IOptions, type Lease, type Watcher } from 'etcd3';
import { TendError } from '../errors/index.js';
import { partChanges, type DocumentParts, type EtcdDocument } from './etcd-documents.js';
import type { Logger } from '../observability/index.js';
import { mayAct, type ActDecision, type LeaderIdentity, type LeaseState } from './lease-decision.js';

/**
 * Leadership among tend instances through etcd, with the key scheme of etcd's own election recipe
 * (client/v3/concurrency/election.go): each candidate puts `<prefix>/election/<lease id in hex>` under its
 * own lease; the key with the lowest create revision leads. A new candidate always gets a higher revision,
 * so a leader stays the leader exactly as long as its key exists, that is, as long as its lease lives.
 *
 * etcd3's `Election`/`Campaign` hide the lease and the key's revision, which fencing needs, and renew on a
 * timer of their own; here the renewals are sent by this class so the time each was *sent* is known, and
 * `mayAct` can say from the clock alone whether the lease surely still lives.
 *
 * Keys under the prefix: `election/…` (candidacies), `journal/…` (the leader's journal, see `fencedWrite`),
 * `status/…` (the leader's published status, which standbys serve); etcd-documents.ts lays those out.
 */
export interface EtcdLeadershipOptions {
  readonly endpoints: readonly string[];
  /** Key prefix of this group of instances, without a trailing slash (`/tend/prod`). */
  readonly prefix: string;
  readonly credentials: EtcdCredentials | undefined;
  readonly ttlMs: number;
  readonly self: LeaderIdentity;
  readonly logger: Logger;
  /** Monotonic milliseconds (renewal times and the act decision). */
  readonly monotonicNow?: () => number;
  /** Wall-clock milliseconds (for status: elected at, unavailable since). */
  readonly now?: () => number;
}

export interface EtcdCredentials {
  /** PEM of the CA that signed etcd's server certificates: with it, tend speaks TLS to etcd. */
  readonly rootCertificate?: Buffer;
  readonly certChain?: Buffer;
  readonly privateKey?: Buffer;
  readonly user?: string;
  readonly password?: string;
}

export interface Leadership {
  readonly self: LeaderIdentity;
  readonly state: LeaseState;
  /** The last error talking to etcd, while it lasts (status shows it even while the lease still holds). */
  readonly lastError: { readonly code: string; readonly message: string } | undefined;
  /** The status the leader last published, as a standby last read it. */
  readonly published: DocumentParts | undefined;
  /** The lease's last confirmed renewal, on the wall clock (for the lease age in status and metrics). */
  readonly renewedAt: number | undefined;
  mayAct(): ActDecision;
  onChange(listener: (state: LeaseState) => void): void;
  /** Reads a document's parts, all at one revision; throws E_ETCD_UNAVAILABLE. */
  readDocument(document: EtcdDocument): Promise<DocumentParts>;
  /**
   * Writes a document only if this instance still leads: one etcd transaction whose compare is the create
   * revision of this leader's candidacy key, which exists only while the lease lives. It sends only the
   * parts that differ from what this instance last wrote. Throws E_NOT_LEADER when refused (then this
   * instance is no longer the leader) and E_ETCD_UNAVAILABLE.
   */
  fencedWrite(document: EtcdDocument, parts: DocumentParts): Promise<void>;
  /** Asks the leader to fetch now (a push reached this standby): a put of `<prefix>/nudge`; throws E_ETCD_UNAVAILABLE. */
  nudge(): Promise<void>;
  /** Called on every nudge any instance sends, for as long as etcd can be watched. */
  onNudge(listener: () => void): void;
  /** Stop campaigning: revoke the lease (a standby takes over at once) and close the client. */
  close(): Promise<void>;
}

/** The share of the TTL kept in hand: a leader stops acting this long before its lease could expire. */
const MARGIN_SHARE = 1 / 3;

export function startEtcdLeadership(options: EtcdLeadershipOptions): Leadership {
  return new EtcdLeadership(options);
}

/** This instance's lease and the key it campaigns with; `revision` is the key's create revision. */
interface Candidacy {
  readonly lease: Lease;
  readonly id: string;
  readonly key: string;
  readonly revision: string;
}

class EtcdLeadership implements Leadership {
  readonly self: LeaderIdentity;
  #state: LeaseState = { kind: 'starting' };
  #lastError: { readonly code: string; readonly message: string } | undefined;
  #published: DocumentParts | undefined;
  /** What etcd holds of each document, as this leader last wrote or read it; absent: unknown (a new term, a failed write). */
  readonly #written = new Map<EtcdDocument, DocumentParts>();
  #renewedAt: number | undefined;
  #lease: Candidacy | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #ticking: Promise<void> = Promise.resolve();
  readonly #listeners: ((state: LeaseState) => void)[] = [];
  readonly #nudgeListeners: (() => void)[] = [];
  #nudges: Promise<Watcher> | undefined;
  readonly #client: Etcd3;
  readonly #options: EtcdLeadershipOptions;
  readonly #monotonic: () => number;
  readonly #now: () => number;
  readonly #ttlSeconds: number;

  constructor(options: EtcdLeadershipOptions) {
    this.self = options.self;
    this.#options = options;
    this.#monotonic = options.monotonicNow ?? (() => performance.now());
    this.#now = options.now ?? Date.now;
    this.#ttlSeconds = Math.max(1, Math.round(options.ttlMs / 1000));
    this.#client = new Etcd3(clientOptions(options));
    this.#schedule(0);
  }

  get state(): LeaseState {
    return this.#state;
  }

  get lastError(): { readonly code: string; readonly message: string } | undefined {
    return this.#lastError;
  }

  get published(): DocumentParts | undefined {
    return this.#published;
  }

  get renewedAt(): number | undefined {
    return this.#renewedAt;
  }

  mayAct(): ActDecision {
    return mayAct(this.#state, this.#monotonic(), this.#options.ttlMs * MARGIN_SHARE);
  }

  onChange(listener: (state: LeaseState) => void): void {
    this.#listeners.push(listener);
  }

  async readDocument(document: EtcdDocument): Promise<DocumentParts> {
    const prefix = this.#documentPrefix(document);
    try {
      const found = await this.#client.getAll().prefix(prefix).options(this.#callOptions()).strings();
      return new Map(Object.entries(found).map(([key, text]) => [key.slice(prefix.length), text]));
    } catch (error) {
      throw etcdError(error, `reading ${prefix}`);
    }
  }

  async fencedWrite(document: EtcdDocument, parts: DocumentParts): Promise<void> {
    const decision = this.mayAct();
    const lease = this.#lease;
    const prefix = this.#documentPrefix(document);
    if (!decision.act || lease === undefined || this.#state.kind !== 'leading') {
      throw new TendError('E_NOT_LEADER', 'transient', `refused to write ${prefix}: ${decision.act ? 'not the leader' : decision.detail}`);
    }
    // At the start of a term, and after a write that may or may not have landed, read what etcd holds: a
    // new leader's first write then sends what changed too, not the whole document.
    const written = this.#written.get(document) ?? (await this.readDocument(document));
    const changes = partChanges(written, parts);
    if (changes.put.length === 0 && changes.remove.length === 0) return;
    this.#written.delete(document);
    let succeeded: boolean;
    try {
      const result = await this.#client
        .if(lease.key, 'Create', '==', lease.revision)
        .then(...changes.put.map(([key, text]) => this.#client.put(`${prefix}${key}`).value(text)), ...changes.remove.map((key) => this.#client.delete().key(`${prefix}${key}`)))
        .options(this.#callOptions())
        .commit();
      succeeded = result.succeeded;
    } catch (error) {
      throw etcdError(error, `writing ${prefix}`);
    }
    if (!succeeded) {
      // The candidacy key is gone: etcd expired the lease, and another instance may lead already.
      this.#options.logger.error({ key: prefix, lease: lease.id }, 'etcd refused a fenced write: this instance no longer leads');
      this.#lease = undefined;
      this.#set({ kind: 'standby', leader: undefined, leaderSince: undefined });
      this.#schedule(0);
      throw new TendError('E_NOT_LEADER', 'transient', `etcd refused the write of ${prefix}: the lease ${lease.id} of this leader has expired`);
    }
    this.#written.set(document, parts);
  }

  async nudge(): Promise<void> {
    try {
      await this.#client.put(`${this.#options.prefix}/nudge`).value(JSON.stringify({ from: this.self.identity })).options(this.#callOptions()).exec();
    } catch (error) {
      throw etcdError(error, `writing ${this.#options.prefix}/nudge`);
    }
  }

  onNudge(listener: () => void): void {
    this.#nudgeListeners.push(listener);
    if (this.#nudges !== undefined) return;
    // etcd3's watcher reconnects and resumes by itself after etcd was away.
    this.#nudges = this.#client
      .watch()
      .key(`${this.#options.prefix}/nudge`)
      .create()
      .then((watcher) => {
        watcher.on('put', () => {
          for (const one of this.#nudgeListeners) one();
        });
        watcher.on('error', (error: unknown) => this.#options.logger.debug({ err: String(error) }, 'watching nudges'));
        return watcher;
      });
    this.#nudges.catch((error: unknown) => this.#options.logger.warn({ err: String(error) }, 'cannot watch for relayed pushes; the leader fetches at its next poll'));
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#nudges?.then((watcher) => watcher.cancel()).catch(() => undefined);
    clearTimeout(this.#timer);
    await this.#ticking;
    const lease = this.#lease;
    this.#lease = undefined;
    if (lease !== undefined) await lease.lease.revoke(this.#callOptions()).catch(() => undefined);
    this.#set({ kind: 'starting' });
    this.#client.close();
  }

  #documentPrefix(document: EtcdDocument): string {
    return `${this.#options.prefix}/${document}/`;
  }

  #electionPrefix(): string {
    return `${this.#options.prefix}/election/`;
  }

  /** Every call waits at most a renewal interval: a hung etcd must not hold the loop past the lease. */
  #callOptions(): { deadline: Date } {
    return { deadline: new Date(Date.now() + Math.max(500, this.#options.ttlMs / 3)) };
  }

  #schedule(delayMs: number): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#ticking = this.#tick();
    }, delayMs);
    this.#timer.unref();
  }

  /** One round: hold a lease and a candidacy, renew it, and see who leads. */
  async #tick(): Promise<void> {
    let nextMs = this.#options.ttlMs / 3;
    try {
      const lease = this.#lease ?? (await this.#campaign());
      const sentAt = this.#monotonic();
      await lease.lease.keepaliveOnce(this.#callOptions());
      this.#renewedAt = this.#now();
      this.#lastError = undefined;
      if (this.#state.kind === 'leading' && this.#state.leaseId === lease.id) this.#set({ ...this.#state, renewSentAt: sentAt });
      await this.#observe(lease, sentAt);
    } catch (error) {
      if (error instanceof EtcdLeaseInvalidError) {
        this.#options.logger.warn({ lease: this.#lease?.id }, 'the etcd lease expired; campaigning again with a new one');
        this.#lease = undefined;
        this.#set({ kind: 'standby', leader: undefined, leaderSince: undefined });
        nextMs = 0;
      } else {
        const tendError = etcdError(error, 'renewing the leadership lease');
        this.#lastError = { code: tendError.code, message: tendError.message };
        this.#options.logger.warn({ code: tendError.code, err: tendError.message }, 'etcd unavailable');
        // A leader keeps its lease until the clock says it may have run out; anyone else stands down now.
        const stillLeading = this.#state.kind === 'leading' && this.mayAct().act;
        if (!stillLeading) {
          const since = this.#state.kind === 'unavailable' ? this.#state.since : this.#now();
          this.#set({ kind: 'unavailable', code: tendError.code, message: tendError.message, since });
        }
        // Retry soon: one lost renewal must not cost the leadership.
        nextMs = Math.min(1_000, this.#options.ttlMs / 6);
      }
    } finally {
      this.#schedule(nextMs);
    }
  }

  async #campaign(): Promise<Candidacy> {
    // The deadline bounds the grant only; etcd3 keeps it out of the lease's later calls.
    const lease = this.#client.lease(this.#ttlSeconds, { autoKeepAlive: false, ...this.#callOptions() });
    // With no listener, etcd3 would still emit 'lost'; the renewal loop learns of it from keepaliveOnce.
    lease.on('lost', () => undefined);
    const id = await lease.grant();
    const key = `${this.#electionPrefix()}${BigInt(id).toString(16)}`;
    const value = JSON.stringify(this.self);
    await this.#client.if(key, 'Create', '==', 0).then(this.#client.put(key).value(value).lease(id)).options(this.#callOptions()).commit();
    const stored = await this.#client.get(key).options(this.#callOptions()).exec();
    const revision = stored.kvs[0]?.create_revision;
    if (revision === undefined) throw new EtcdLeaseInvalidError(id);
    this.#lease = { lease, id, key, revision };
    this.#options.logger.info({ lease: id, key, revision }, 'campaigning for leadership');
    return this.#lease;
  }

  async #observe(lease: Candidacy, renewSentAt: number): Promise<void> {
    const first = await this.#client.getAll().prefix(this.#electionPrefix()).sort('Create', 'Ascend').limit(1).options(this.#callOptions()).exec();
    const leader = first.kvs[0];
    if (leader === undefined) throw new EtcdLeaseInvalidError(lease.id);
    if (leader.key.toString('utf8') === lease.key) {
      const electedAt = this.#state.kind === 'leading' ? this.#state.electedAt : this.#now();
      if (this.#state.kind !== 'leading') {
        this.#options.logger.info({ lease: lease.id, identity: this.self.identity }, 'elected leader');
        // Another leader may have written since this instance last did.
        this.#written.clear();
      }
      this.#set({ kind: 'leading', leaseId: lease.id, revision: lease.revision, electedAt, renewSentAt, ttlMs: this.#options.ttlMs });
      return;
    }
    const identity = leaderIdentityOf(leader.value.toString('utf8'));
    const previous = this.#state;
    const leaderSince = previous.kind === 'standby' && previous.leader?.identity === identity?.identity ? previous.leaderSince : this.#now();
    this.#published = await this.readDocument('status');
    this.#set({ kind: 'standby', leader: identity, leaderSince });
  }

  #set(state: LeaseState): void {
    const previous = this.#state;
    this.#state = state;
    // Renewals change only the renewal time: listeners hear of role changes and of a new leader.
    const changed = previous.kind !== state.kind || (previous.kind === 'standby' && state.kind === 'standby' && previous.leader?.identity !== state.leader?.identity);
    if (changed) for (const listener of this.#listeners) listener(state);
  }
}

function leaderIdentityOf(text: string): LeaderIdentity | undefined {
  try {
    const value = JSON.parse(text) as Partial<LeaderIdentity>;
    return typeof value.identity === 'string' && typeof value.url === 'string' ? { identity: value.identity, url: value.url } : undefined;
  } catch {
    return undefined;
  }
}

function clientOptions(options: EtcdLeadershipOptions): IOptions {
  const credentials = options.credentials;
  return {
    hosts: [...options.endpoints],
    dialTimeout: Math.max(500, options.ttlMs / 3),
    ...(credentials?.rootCertificate === undefined
      ? {}
      : {
          credentials: {
            rootCertificate: credentials.rootCertificate,
            ...(credentials.certChain === undefined ? {} : { certChain: credentials.certChain }),
            ...(credentials.privateKey === undefined ? {} : { privateKey: credentials.privateKey }),
          },
        }),
    ...(credentials?.user === undefined ? {} : { auth: { username: credentials.user, password: credentials.password ?? '' } }),
  };
}

/** etcd3's errors at the edge: refused credentials wait for a person, anything else is etcd being away. */
function etcdError(error: unknown, doing: string): TendError {
  if (error instanceof TendError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof EtcdAuthenticationFailedError || error instanceof EtcdInvalidAuthTokenError || error instanceof EtcdPermissionDeniedError) {
    return new TendError('E_ETCD_REFUSED', 'conflict', `etcd refused ${doing}: ${message}`, { cause: error });
  }
  return new TendError('E_ETCD_UNAVAILABLE', 'transient', `etcd did not answer ${doing}: ${message}`, { cause: error });
}
