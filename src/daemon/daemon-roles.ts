import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { Readiness } from '../api/index.js';
import { asTendError, TendError } from '../errors/index.js';
import { journalOf, journalParts, leadershipStatusOf, publishedStatusOf, startEtcdLeadership, statusParts, type EtcdCredentials, type Leadership } from '../leadership/index.js';
import type { Logger, TendMetrics } from '../observability/index.js';
import type { DeploySource } from '../source/index.js';
import { emptyJournal, journalPath, readJournal, writeJournal, type Journal, type RolloutRecord } from '../state/index.js';
import { statusOf, type DaemonStatus, type LeadershipStatus } from '../status/index.js';
import type { DaemonConfig, HaConfig } from './daemon-config.js';
import type { Reconciler } from './reconciler.js';
import type { PassLoop } from './run-daemon.js';

/**
 * Who acts: a tend alone always does; with `ha`, only the instance holding the lease in etcd, for as long as
 * it holds it, while the others serve what it publishes.
 */

/** The shortest time between two statuses a leader publishes for its standbys. */
const PUBLISH_INTERVAL_MS = 1_000;

/** A reconciler with its pass loop, started. */
export interface Acting {
  readonly reconciler: Reconciler;
  readonly loop: PassLoop;
  /** Resolves when the loop stopped. */
  readonly stopped: Promise<void>;
}

/** With `ha`: how a leader's effects are fenced, and what it publishes for the standbys. */
export interface Fencing {
  /** The leader's identity, as its host steps name it. */
  readonly identity: string;
  readonly writeJournal: (path: string, journal: Journal) => Promise<void>;
  readonly mayAct: () => boolean;
  readonly publish: (status: DaemonStatus) => void;
}

/** What the API and the triggers ask of this instance, whether it runs alone or as one of an `ha` group. */
export interface Roles {
  readonly identity: string | undefined;
  /** The reconciler acting now: always without `ha`, only on the leader with it. */
  acting(): Acting | undefined;
  /** The error an operator call gets when this instance does not act. */
  notLeader(): TendError;
  /** A push to fetch: the acting reconciler's loop is triggered, or, on a standby, the leader's (through etcd). */
  poke(reason: 'webhook'): Promise<{ readonly relayedTo?: string }>;
  status(): DaemonStatus;
  history(): readonly RolloutRecord[];
  readiness(): Readiness;
  observeMetrics(): void;
  stop(): void;
  readonly stopped: Promise<void>;
}

export function singleInstance(acting: Acting, metrics: TendMetrics): Roles {
  metrics.leadershipObserved({ leading: true, leader: undefined, renewedAt: undefined });
  return {
    identity: undefined,
    acting: () => acting,
    notLeader: () => new TendError('E_INTERNAL', 'internal', 'a tend without ha always acts'),
    poke: async (reason) => {
      acting.loop.trigger(reason);
      return {};
    },
    status: () => acting.reconciler.status,
    history: () => acting.reconciler.journal.rollouts,
    readiness: () => ({ ready: acting.loop.started, role: 'single' }),
    observeMetrics: () => undefined,
    stop: () => acting.loop.stop(),
    stopped: acting.stopped,
  };
}

/**
 * With `ha`: campaign in etcd; each time this instance is elected, read the shared journal from etcd and
 * start a reconciler whose journal writes are fenced by the lease and whose effects ask `mayAct`; when the
 * leadership goes, stop it at the next safe point. Meanwhile serve what the leader publishes.
 */
export async function leaderTerms(settings: DaemonConfig, ha: HaConfig, url: string, source: DeploySource, logger: Logger, metrics: TendMetrics, startActing: (journal: Journal, fencing: Fencing) => Acting): Promise<Roles> {
  const self = { identity: ha.identity ?? `${hostname()}/${settings.listen.host}:${settings.listen.port}`, url };
  const leadership = await startEtcdLeadership({ endpoints: ha.endpoints, prefix: ha.prefix, credentials: await etcdCredentials(ha), ttlMs: ha.leaseTtlMs, self, logger });
  const startedAt = Date.now();
  let acting: Acting | undefined;
  let stopping = false;
  let resolveStopped: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    resolveStopped = resolve;
  });
  let publishing: { latest: DaemonStatus | undefined; running: boolean } = { latest: undefined, running: false };
  const leadershipStatus = (): LeadershipStatus => {
    const published = publishedStatusOf(leadership.published);
    return leadershipStatusOf({ state: leadership.state, decision: leadership.mayAct(), self, renewedAt: leadership.renewedAt, ttlMs: ha.leaseTtlMs, etcdError: leadership.lastError, publishedAt: published?.publishedAt });
  };
  const publishNext = async (): Promise<void> => {
    // One write in flight; a newer status replaces a waiting one, so etcd sees the latest, not every step.
    if (publishing.running) return;
    publishing.running = true;
    while (publishing.latest !== undefined) {
      const status = publishing.latest;
      publishing.latest = undefined;
      await leadership
        .fencedWrite('status', statusParts({ publishedAt: Date.now(), status: { ...status, leadership: leadershipStatus() } }))
        .catch((error: unknown) => logger.debug({ code: asTendError(error).code, err: asTendError(error).message }, 'status not published'));
      // etcd keeps every revision until compaction: at most one status a second, however busy the rollout.
      await new Promise((resolve) => setTimeout(resolve, PUBLISH_INTERVAL_MS).unref());
    }
    publishing.running = false;
  };
  const fencing: Fencing = {
    identity: self.identity,
    writeJournal: (_path, journal) => leadership.fencedWrite('journal', journalParts(journal)),
    mayAct: () => leadership.mayAct().act,
    publish: (status) => {
      publishing.latest = status;
      void publishNext();
    },
  };
  // Role changes are handled one at a time: a term starts only after the previous one has stopped.
  let changes = Promise.resolve();
  const follow = (): void => {
    changes = changes.then(async () => {
      metrics.leadershipObserved({ leading: leadership.mayAct().act, leader: leadershipStatus().leader?.identity, renewedAt: leadership.renewedAt });
      const leading = leadership.state.kind === 'leading' && !stopping;
      if (!leading && acting !== undefined) {
        const ending = acting;
        acting = undefined;
        logger.warn({ reason: leadership.mayAct().act ? 'stopping' : leadership.state.kind }, 'leadership ended; stopping at the next safe point');
        ending.loop.stop();
        await ending.stopped;
      }
      if (leading && acting === undefined) {
        const journal = await sharedJournal(leadership, settings.stateDir, source.description, logger).catch((error: unknown) => {
          logger.error({ code: asTendError(error).code, err: asTendError(error).message }, 'cannot read the shared journal; not acting');
          return undefined;
        });
        if (journal === undefined || !leadership.mayAct().act || stopping) return;
        publishing = { latest: undefined, running: false };
        logger.info({ identity: self.identity, lastApplied: journal.lastApplied, inFlight: journal.inFlight?.rolloutId }, 'leading: resuming from the shared journal');
        acting = startActing(journal, fencing);
      }
    });
  };
  leadership.onChange(follow);
  // A push that reached a standby (behind a load balancer, any instance may get it) wakes the leader here.
  leadership.onNudge(() => acting?.loop.trigger('webhook'));
  const notLeader = (): TendError => {
    const status = leadershipStatus();
    return new TendError('E_NOT_LEADER', 'transient', `${self.identity} does not act: ${status.notActing?.detail ?? 'not the leader'}`, {
      hint: status.leader === undefined ? 'No instance leads now; see `tend status` for why.' : `Ask the leader, ${status.leader.identity} at ${status.leader.url}.`,
    });
  };
  return {
    identity: self.identity,
    acting: () => acting,
    notLeader,
    poke: async (reason) => {
      const now = acting;
      if (now !== undefined) {
        now.loop.trigger(reason);
        return {};
      }
      const leader = leadershipStatus().leader;
      if (leader === undefined) throw notLeader();
      try {
        await leadership.nudge();
      } catch (error) {
        logger.warn({ code: asTendError(error).code, err: asTendError(error).message }, 'push not relayed to the leader');
        throw notLeader();
      }
      return { relayedTo: leader.identity };
    },
    status: () => {
      if (acting !== undefined) return { ...acting.reconciler.status, leadership: leadershipStatus() };
      const published = publishedStatusOf(leadership.published);
      return { ...(published?.status ?? startingStatus(source, startedAt)), leadership: leadershipStatus() };
    },
    history: () => acting?.reconciler.journal.rollouts ?? publishedStatusOf(leadership.published)?.status.recentRollouts ?? [],
    readiness: () => {
      const status = leadershipStatus();
      if (status.role === 'leader') return { ready: acting?.loop.started === true, role: 'leader' };
      // A standby is ready to do its part (serve status, take over); one that cannot reach etcd is not.
      return { ready: status.role === 'standby', role: status.role, ...(status.notActing === undefined ? {} : { detail: status.notActing.detail }) };
    },
    observeMetrics: () => metrics.leadershipObserved({ leading: leadership.mayAct().act, leader: leadershipStatus().leader?.identity, renewedAt: leadership.renewedAt }),
    stop: () => {
      stopping = true;
      follow();
      void changes.then(async () => {
        // Revoking the lease lets a standby take over at once instead of after the TTL.
        await leadership.close();
        resolveStopped();
      });
    },
    stopped,
  };
}

/** The journal in etcd; before the first leader wrote one, this machine's journal file (moving from one instance to ha). */
async function sharedJournal(leadership: Leadership, stateDir: string, source: string, logger: Logger): Promise<Journal> {
  const read = journalOf(await leadership.readDocument('journal'), source);
  switch (read.kind) {
    case 'ok':
      return read.journal;
    case 'missing':
      return loadJournal(stateDir, source, logger);
    case 'corrupt':
      logger.error({ code: 'E_JOURNAL_CORRUPT', reason: read.reason }, 'the journal in etcd is unreadable; starting from observation (known-bad commits are recovered from revert commits in git history)');
      return emptyJournal(source);
    case 'other-source':
      logger.warn({ found: read.found, source }, 'the journal in etcd belongs to another source; starting a new one');
      return emptyJournal(source);
  }
}

/** What status shows before anything is known: no journal read, nothing published. */
export function startingStatus(source: DeploySource, startedAt = Date.now()): DaemonStatus {
  return statusOf(emptyJournal(source.description), {
    startedAt,
    source: { description: source.description, branch: source.branch, head: undefined, lastFetchAt: undefined, lastFetchOkAt: undefined, error: undefined },
    passError: undefined,
    settled: false,
    now: Date.now(),
  });
}

async function etcdCredentials(ha: HaConfig): Promise<EtcdCredentials | undefined> {
  const given = ha.credentials;
  if (given === undefined) return undefined;
  const read = async (file: string | undefined): Promise<Buffer | undefined> => (file === undefined ? undefined : readFile(file));
  const password = given.passwordFile === undefined ? undefined : (await readFile(given.passwordFile, 'utf8')).trim();
  const [rootCertificate, certChain, privateKey] = await Promise.all([read(given.caFile), read(given.certFile), read(given.keyFile)]);
  return {
    ...(rootCertificate === undefined ? {} : { rootCertificate }),
    ...(certChain === undefined ? {} : { certChain }),
    ...(privateKey === undefined ? {} : { privateKey }),
    ...(given.user === undefined ? {} : { user: given.user }),
    ...(password === undefined ? {} : { password }),
  };
}


/** The journal in the state dir: a corrupt one is reported and rebuilt from observation. */
export async function loadJournal(stateDir: string, source: string, logger: Logger): Promise<Journal> {
  const read = await readJournal(journalPath(stateDir), source);
  switch (read.kind) {
    case 'ok':
      return read.journal;
    case 'missing':
      return emptyJournal(source);
    case 'corrupt': {
      // Never a crash loop: git and the hosts are the truth, and the next pass re-observes them.
      logger.error({ code: 'E_JOURNAL_CORRUPT', reason: read.reason }, 'journal unreadable; starting from observation (known-bad commits are recovered from revert commits in git history)');
      const fresh = emptyJournal(source);
      await writeJournal(journalPath(stateDir), fresh);
      return fresh;
    }
    case 'other-source':
      logger.warn({ found: read.found, source }, 'journal belongs to another source; starting a new one');
      return emptyJournal(source);
  }
}

