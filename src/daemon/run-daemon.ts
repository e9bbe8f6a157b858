import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CronJob } from 'cron';
import { startApiServer, type ApiServer } from '../api/index.js';
import { asTendError } from '../errors/index.js';
import { openFleet } from '../hosts/index.js';
import { sshFleet } from '../pass/index.js';
import { createNotificationSink, TendMetrics, type Logger, type NotificationSink } from '../observability/index.js';
import { directorySecretSource } from '../render/index.js';
import { createRevertCommit, runNativeGit } from '../rollback/index.js';
import { SETTINGS_DEFAULTS } from '../spec/index.js';
import { httpSource, loadGitCredentials, localSource, type DeploySource } from '../source/index.js';
import { acquireStateLock, emptyJournal, journalPath, readJournal, writeJournal, writeFileAtomically, type Journal } from '../state/index.js';
import type { CrashPoint } from './crash-points.js';
import type { DaemonConfig } from './daemon-config.js';
import { monitoringFilesFollower } from './monitoring-files.js';
import { Reconciler, type PassReason } from './reconciler.js';

export interface RunningDaemon {
  readonly url: string;
  /** Resolves when the daemon stopped (after `stop`, or a fatal error). */
  readonly stopped: Promise<void>;
  /** Finish or abandon the current host step within the grace period, then close everything. */
  stop(): Promise<void>;
}

/**
 * Starts the long-running reconciler: lock the state directory, read the journal (a corrupt one is
 * reported and rebuilt from observation), serve the API, then run passes one at a time as triggers come:
 * the poll timer, verified webhooks, a local repo's ref changing, the resync schedule, operator calls and
 * backoff retries. Triggers that arrive during a pass are coalesced into one follow-up pass.
 */
export async function runDaemon(settings: DaemonConfig, logger: Logger, crash: (point: CrashPoint) => void): Promise<RunningDaemon> {
  const lock = await acquireStateLock(settings.stateDir);
  const cleanups: (() => Promise<void>)[] = [() => lock.release()];
  const cleanUp = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => logger.warn({ err: String(error) }, 'cleanup failed'));
  };
  try {
    const source = await openSource(settings);
    const journal = await loadJournal(settings.stateDir, source.description, logger);
    // No commit is loaded yet: start at the default, and each pass sets the limit of the commit it loaded.
    const pool = openFleet({
      privateKeyPath: settings.sshKey,
      ...(settings.knownHosts === undefined ? {} : { knownHostsPath: settings.knownHosts }),
      concurrency: SETTINGS_DEFAULTS.concurrency,
      logger,
    });
    cleanups.push(() => pool.close());
    const metrics = new TendMetrics({ startedAt: Date.now() });
    // The journal's applied commit is known at once; its time is not, so the restart stands in for it.
    if (journal.lastApplied !== undefined) metrics.commitApplied(journal.lastApplied, Date.now());
    const notifications = settings.notifications === undefined ? undefined : await notificationSinkOf(settings.notifications, logger);
    const reconciler = new Reconciler({
      source,
      fleet: sshFleet(pool),
      secrets: settings.secretsDir === undefined ? undefined : directorySecretSource(settings.secretsDir),
      journalPath: journalPath(settings.stateDir),
      journal,
      logger,
      retry: settings.retry,
      createRevert: async (input) => (await createRevertCommit({ gitdir: source.gitdir, identity: settings.author, ...input })).sha,
      crash,
      metrics,
      ...(notifications === undefined ? {} : { onStatus: (status) => notifications.observe(status, Date.now()) }),
    });
    if (notifications !== undefined) {
      // Reminders and settled recoveries are decided on observation: look at least every minute.
      const tick = setInterval(() => notifications.observe(reconciler.status, Date.now()), 60_000);
      tick.unref();
      cleanups.push(async () => {
        clearInterval(tick);
        await Promise.race([notifications.drain(), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
      });
    }
    const afterPass =
      settings.monitoring === undefined
        ? undefined
        : monitoringFilesFollower({ dir: settings.monitoring.fileSdDir, source, logger });
    const loop = new PassLoop(reconciler, settings, logger, metrics, afterPass);
    const operatorToken = await ensureOperatorToken(settings.stateDir);
    const webhookSecret = settings.webhookSecretFile === undefined ? undefined : (await readFile(settings.webhookSecretFile, 'utf8')).trim();
    const api: ApiServer = await startApiServer(
      {
        status: () => reconciler.status,
        history: () => reconciler.journal.rollouts,
        metrics: async () => ({ contentType: metrics.contentType, text: await metrics.metricsText() }),
        pause: async (service, pause) => {
          if (!reconciler.knowsService(service)) return 'unknown-service';
          await reconciler.pause(service, pause);
          return 'paused';
        },
        resume: async (service) => {
          const resumed = await reconciler.resume(service);
          if (resumed) loop.trigger('operator');
          return resumed;
        },
        ready: () => loop.started,
        poke: (reason) => loop.trigger(reason),
        operator: async (action, service) => {
          const cleared = await reconciler.operatorClear(action, service);
          loop.trigger('operator');
          return cleared;
        },
      },
      { listen: settings.listen, webhookSecret, operatorToken, branch: settings.branch, logger },
    );
    cleanups.push(() => api.close());
    const stopWatching = source.watch(() => loop.trigger('watch'));
    if (stopWatching !== undefined) cleanups.push(stopWatching);
    const resync = CronJob.from({
      cronTime: settings.resyncSchedule,
      onTick: () => {
        loop.trigger('resync');
        // Every fetch adds a pack to tend's own clone; let git consolidate them now and then.
        if (settings.source.kind === 'url') void compactClone(source.gitdir, logger);
      },
      start: true,
      errorHandler: (error) => logger.error({ err: String(error) }, 'resync trigger failed'),
    });
    cleanups.push(async () => {
      await resync.stop();
    });
    logger.info({ source: source.description, branch: settings.branch, url: api.url, lastApplied: journal.lastApplied }, 'tend started');
    const stopped = loop.run().finally(cleanUp);
    return {
      url: api.url,
      stopped,
      async stop() {
        loop.stop();
        const grace = setTimeout(() => {
          // The journal already names the in-flight rollout; the next start re-observes and resumes it.
          logger.error({ graceMs: settings.shutdownGraceMs }, 'shutdown grace period over; exiting mid-step');
          process.exit(1);
        }, settings.shutdownGraceMs);
        grace.unref();
        await stopped;
        clearTimeout(grace);
      },
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

async function compactClone(gitdir: string, logger: Logger): Promise<void> {
  const result = await runNativeGit(['gc', '--auto', '--quiet'], { cwd: gitdir, env: process.env, timeoutMs: 300_000 }).catch((error: unknown) => ({ code: -1, stderr: String(error) }));
  if (result.code !== 0) logger.warn({ code: 'E_GIT_GC', err: result.stderr.slice(-500) }, 'git gc of the clone failed');
}

async function notificationSinkOf(notifications: NonNullable<DaemonConfig['notifications']>, logger: Logger): Promise<NotificationSink> {
  const url = (await readFile(notifications.urlFile, 'utf8')).trim();
  return createNotificationSink({
    url,
    format: notifications.format,
    ...(notifications.statusUrl === undefined ? {} : { statusUrl: notifications.statusUrl }),
    logger,
    incidents: { reminderMs: notifications.reminderMs },
  });
}

async function openSource(settings: DaemonConfig): Promise<DeploySource> {
  if (settings.source.kind === 'path') return localSource({ path: settings.source.path, branch: settings.branch });
  const credentials = await loadGitCredentials({ ...(settings.source.credentialsFile === undefined ? {} : { file: settings.source.credentialsFile }), env: process.env });
  return httpSource({ url: settings.source.url, branch: settings.branch, dir: path.join(settings.stateDir, 'repo'), ...(credentials === undefined ? {} : { credentials }) });
}

async function loadJournal(stateDir: string, source: string, logger: Logger): Promise<Journal> {
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

/** The token `tend retry`/`tend ack` present; made once, readable only by tend's user (and root). */
async function ensureOperatorToken(stateDir: string): Promise<string> {
  const file = path.join(stateDir, 'api-token');
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing.length >= 32) return existing;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const token = randomBytes(32).toString('hex');
  await writeFileAtomically(file, `${token}\n`, 0o600);
  return token;
}

/**
 * Runs passes one at a time. A trigger during a pass makes the running pass see a newer head at once (so it
 * can be superseded) and queues one follow-up pass; timers (poll, backoff, deploy window) are re-armed
 * after each pass, so nothing runs unbounded: every wait has an end and every retry a budget.
 */
class PassLoop {
  started = false;
  #pending: PassReason | undefined = 'startup';
  #wake: (() => void) | undefined;
  #stopping = false;
  #running = false;
  #timer: NodeJS.Timeout | undefined;
  #windowTimer: NodeJS.Timeout | undefined;
  readonly #reconciler: Reconciler;
  readonly #metrics: TendMetrics;
  readonly #settings: DaemonConfig;
  readonly #log: Logger;
  readonly #afterPass: ((head: string | undefined) => Promise<void>) | undefined;

  /** `afterPass` gets the branch head once each pass has ended, before the next can start. */
  constructor(reconciler: Reconciler, settings: DaemonConfig, logger: Logger, metrics: TendMetrics, afterPass: ((head: string | undefined) => Promise<void>) | undefined) {
    this.#afterPass = afterPass;
    this.#metrics = metrics;
    this.#reconciler = reconciler;
    this.#settings = settings;
    this.#log = logger;
  }

  trigger(reason: PassReason): void {
    if (this.#stopping) return;
    // A resync or an operator call asks for more than a poll; keep the strongest reason.
    if (this.#pending === undefined || reason === 'resync' || reason === 'operator' || reason === 'retry') this.#pending = reason;
    if (this.#running) void this.#reconciler.refreshHead().catch(() => undefined);
    this.#wake?.();
  }

  stop(): void {
    this.#stopping = true;
    this.#reconciler.stop();
    this.#wake?.();
  }

  async run(): Promise<void> {
    this.started = true;
    while (!this.#stopping) {
      if (this.#pending === undefined) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        this.#wake = undefined;
        continue;
      }
      const reason = this.#pending;
      this.#pending = undefined;
      // Polls go on during a long rollout: a newer commit must be able to supersede it without a webhook.
      this.#arm(this.#pollDelay(), 'poll');
      this.#running = true;
      const startedAt = Date.now();
      let delayMs = this.#pollDelay();
      try {
        const outcome = await this.#reconciler.pass(reason);
        this.#metrics.passFinished(outcome.kind, Date.now() - startedAt);
        if (outcome.kind === 'again') this.#pending ??= 'follow-up';
        if (outcome.kind === 'retry') {
          this.#arm(outcome.delayMs, 'retry');
          delayMs = Number.POSITIVE_INFINITY;
        }
        if (outcome.kind === 'idle') this.#armWindow(outcome.wakeAt);
      } catch (error) {
        const tendError = asTendError(error);
        this.#metrics.passFinished('failed', Date.now() - startedAt);
        this.#log.error({ code: tendError.code, errorClass: tendError.errorClass, err: tendError.message }, 'pass failed');
        this.#reconciler.passFailed(tendError);
      } finally {
        this.#running = false;
      }
      await this.#afterPass?.(this.#reconciler.status.source.head);
      if (Number.isFinite(delayMs)) this.#arm(delayMs, 'poll');
    }
  }

  #arm(delayMs: number, reason: PassReason): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.trigger(reason), delayMs);
    this.#timer.unref();
  }

  #pollDelay(): number {
    const spread = this.#settings.pollIntervalMs * this.#settings.pollJitter;
    return Math.max(1_000, Math.round(this.#settings.pollIntervalMs + (Math.random() * 2 - 1) * spread));
  }

  /** A service waiting for its deploy window gets a pass when the window opens. */
  #armWindow(wakeAt: number | undefined): void {
    clearTimeout(this.#windowTimer);
    if (wakeAt === undefined) return;
    this.#windowTimer = setTimeout(() => this.trigger('poll'), Math.max(0, wakeAt - Date.now()) + 1_000);
    this.#windowTimer.unref();
  }
}
