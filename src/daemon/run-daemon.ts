import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { CronJob } from 'cron';
import { startApiServer, type ApiServer } from '../api/index.js';
import { urlDelivery } from '../artifacts/index.js';
import { asTendError, TendError } from '../errors/index.js';
import { openFleet } from '../hosts/index.js';
import { sshFleet } from '../pass/index.js';
import { createNotificationSink, TendMetrics, type GitHostPublishKind, type Logger, type NotificationSink } from '../observability/index.js';
import { directorySecretSource } from '../render/index.js';
import { createGitHostPublisher, gitHostApi, type GitHostPublisher } from '../githost/index.js';
import { createHealthyRefPusher, type HealthyRefPusher } from '../healthy-refs/index.js';
import { planRef, PlanQueue, type RefPlan } from '../preview/index.js';
import { createRevertCommit, runNativeGit } from '../rollback/index.js';
import { LoadCache, SETTINGS_DEFAULTS } from '../spec/index.js';
import { httpSource, loadGitCredentials, localSource, nativeFetchEnv, nativeRemoteConfig, type DeploySource, type GitCredentials } from '../source/index.js';
import { acquireStateLock, journalPath, writeFileAtomically, type Journal } from '../state/index.js';
import type { CrashHook } from './crash-points.js';
import type { DaemonConfig, GitHostConfig } from './daemon-config.js';
import { monitoringFilesFollower } from './monitoring-files.js';
import { leaderTerms, loadJournal, singleInstance, startingStatus, type Acting, type Fencing, type Roles } from './daemon-roles.js';
import { Reconciler, type PassReason } from './reconciler.js';

/** Plans of refs that may wait behind the running one before a request is refused (E_PLAN_BUSY). */
const PLANS_WAITING = 4;

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
 * backoff retries. Triggers that arrive during a pass are coalesced into one follow-up pass. With `ha`,
 * the reconciler runs only while this instance leads, from the journal in etcd (`leaderTerms`).
 */
export async function runDaemon(settings: DaemonConfig, logger: Logger, crash: CrashHook): Promise<RunningDaemon> {
  const lock = await acquireStateLock(settings.stateDir);
  const cleanups: (() => Promise<void>)[] = [() => lock.release()];
  const cleanUp = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => logger.warn({ err: String(error) }, 'cleanup failed'));
  };
  try {
    const credentials = settings.source.kind === 'url' ? await loadGitCredentials({ ...(settings.source.credentialsFile === undefined ? {} : { file: settings.source.credentialsFile }), env: process.env }) : undefined;
    const source = openSource(settings, credentials);
    // No commit is loaded yet: start at the default, and each pass sets the limit of the commit it loaded.
    const pool = openFleet({
      privateKeyPath: settings.sshKey,
      ...(settings.knownHosts === undefined ? {} : { knownHostsPath: settings.knownHosts }),
      concurrency: SETTINGS_DEFAULTS.concurrency,
      logger,
    });
    cleanups.push(() => pool.close());
    const metrics = new TendMetrics({ startedAt: Date.now() });
    const notifications = settings.notifications === undefined ? undefined : await notificationSinkOf(settings.notifications, logger);
    const secrets = settings.secretsDir === undefined ? undefined : directorySecretSource(settings.secretsDir);
    // fetch: tend keeps what it downloaded in the state dir: later rollouts and rollbacks need no store.
    const fleet = sshFleet(pool, urlDelivery({ secrets, cacheDir: path.join(settings.stateDir, 'artifacts') }));
    let roles: Roles | undefined;
    const plans = new PlanQueue<RefPlan>(PLANS_WAITING);
    const planLoads = new LoadCache();
    // Outside the pass loop: a plan observes hosts read-only over the shared pool while a pass goes on; it
    // counts a ref's commits from the head the daemon fetched (a standby's: the one its leader published).
    const plan = (ref: string): Promise<RefPlan> =>
      plans.run(ref, async () => {
        const started = Date.now();
        const result = await planRef({ source, base: (roles?.status() ?? startingStatus(source)).source.head, fleet, secrets, loadCache: planLoads }, ref);
        logger.info({ ref, commit: result.sha, verdict: result.verdict, ms: Date.now() - started }, 'ref planned');
        return result;
      });
    const githost = settings.githost === undefined ? undefined : await gitHostPublisherOf(settings.githost, plan, logger, metrics);
    if (githost !== undefined) cleanups.push(() => drainWithin(githost.drain(), 10_000));
    const healthyRefs = settings.healthyRefs ? healthyRefPusherOf(settings, source, credentials, logger) : undefined;
    if (healthyRefs !== undefined) cleanups.push(() => drainWithin(healthyRefs.drain(), 10_000));
    /** The reconciler and its pass loop: for ever without `ha`, for each term of leadership with it. */
    const startActing = (journal: Journal, fencing: Fencing | undefined): Acting => {
      // The journal's applied commit is known at once; its time is not, so the start stands in for it.
      if (journal.lastApplied !== undefined) metrics.commitApplied(journal.lastApplied, Date.now());
      const reconciler = new Reconciler({
        source,
        fleet,
        secrets,
        journalPath: journalPath(settings.stateDir),
        journal,
        logger,
        retry: settings.retry,
        createRevert: async (input) => (await createRevertCommit({ gitdir: source.gitdir, identity: settings.author, ...input })).sha,
        crash,
        metrics,
        onStatus: (status) => {
          notifications?.observe(status, Date.now());
          githost?.observe(status);
          healthyRefs?.observe(status);
          fencing?.publish(status);
        },
        ...(fencing === undefined ? {} : { writeJournal: fencing.writeJournal, mayAct: fencing.mayAct }),
        identity: fencing?.identity ?? hostname(),
      });
      const afterPass = settings.monitoring === undefined ? undefined : monitoringFilesFollower({ dir: settings.monitoring.fileSdDir, load: (head) => reconciler.loadHead(head), logger });
      const loop = new PassLoop(reconciler, settings, logger, metrics, afterPass);
      return { reconciler, loop, stopped: loop.run() };
    };
    if (notifications !== undefined) {
      // Reminders and settled recoveries are decided on observation: look at least every minute.
      const tick = setInterval(() => {
        const acting = roles?.acting();
        if (acting !== undefined) notifications.observe(acting.reconciler.status, Date.now());
      }, 60_000);
      tick.unref();
      cleanups.push(async () => {
        clearInterval(tick);
        await Promise.race([notifications.drain(), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
      });
    }
    const operatorToken = await ensureOperatorToken(settings.stateDir);
    const webhookSecret = settings.webhookSecretFile === undefined ? undefined : (await readFile(settings.webhookSecretFile, 'utf8')).trim();
    /** The roles once the daemon has started them; until then every call that needs one is refused. */
    const started = (): Roles => {
      if (roles === undefined) throw new TendError('E_NOT_LEADER', 'transient', 'tend is starting');
      return roles;
    };
    const leader = (): Acting => {
      const acting = started().acting();
      if (acting === undefined) throw started().notLeader();
      return acting;
    };
    const api: ApiServer = await startApiServer(
      {
        status: () => roles?.status() ?? startingStatus(source),
        history: () => roles?.history() ?? [],
        metrics: async () => {
          roles?.observeMetrics();
          return { contentType: metrics.contentType, text: await metrics.metricsText() };
        },
        pause: async (service, pause) => {
          const { reconciler } = leader();
          if (!reconciler.knowsService(service)) return 'unknown-service';
          await reconciler.pause(service, pause);
          return 'paused';
        },
        resume: async (service) => {
          const { reconciler, loop } = leader();
          const resumed = await reconciler.resume(service);
          if (resumed) loop.trigger('operator');
          return resumed;
        },
        ready: () => roles?.readiness() ?? { ready: false, role: 'starting' },
        poke: async (reason) => started().poke(reason),
        plan,
        pullRequest: (event) => githost?.pullRequest(event) ?? { accepted: false, reason: 'no git host is configured (githost in the config)' },
        operator: async (action, service) => {
          const { reconciler, loop } = leader();
          const cleared = await reconciler.operatorClear(action, service);
          loop.trigger('operator');
          return cleared;
        },
      },
      { listen: settings.listen, webhookSecret, operatorToken, branch: settings.branch, logger },
    );
    cleanups.push(() => api.close());
    roles = settings.ha === undefined ? singleInstance(startActing(await loadJournal(settings.stateDir, source.description, logger), undefined), metrics) : await leaderTerms(settings, settings.ha, api.url, source, logger, metrics, startActing);
    const stopWatching = source.watch(() => roles?.acting()?.loop.trigger('watch'));
    if (stopWatching !== undefined) cleanups.push(stopWatching);
    const resync = CronJob.from({
      cronTime: settings.resyncSchedule,
      onTick: () => {
        roles?.acting()?.loop.trigger('resync');
        // Every fetch adds a pack to tend's own clone; let git consolidate them now and then.
        if (settings.source.kind === 'url') void compactClone(source.gitdir, logger);
      },
      start: true,
      errorHandler: (error) => logger.error({ err: String(error) }, 'resync trigger failed'),
    });
    cleanups.push(async () => {
      await resync.stop();
    });
    logger.info({ source: source.description, branch: settings.branch, url: api.url, ha: settings.ha === undefined ? undefined : { prefix: settings.ha.prefix, identity: roles.identity } }, 'tend started');
    const running = roles;
    const stopped = running.stopped.finally(cleanUp);
    return {
      url: api.url,
      stopped,
      async stop() {
        running.stop();
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

async function gitHostPublisherOf(config: GitHostConfig, plan: (ref: string) => Promise<RefPlan>, logger: Logger, metrics: TendMetrics): Promise<GitHostPublisher> {
  let token: string;
  try {
    token = (await readFile(config.tokenFile, 'utf8')).trim();
  } catch (error) {
    throw new TendError('E_GITHOST_CONFIG', 'invalid', `cannot read the git host token at ${config.tokenFile}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
      hint: 'Write the API token (it may write commit statuses and issue comments) to githost.token_file, readable by the user tend runs as.',
      cause: error,
    });
  }
  const api = gitHostApi({ provider: config.provider, apiUrl: config.apiUrl, token, repository: config.repository });
  metrics.githostConfigured(config.provider);
  const losses = {
    gaveUp: (kind: GitHostPublishKind) => metrics.githostPublishLost(config.provider, kind, 'gave-up'),
    dropped: (kind: GitHostPublishKind) => metrics.githostPublishLost(config.provider, kind, 'dropped'),
  };
  return createGitHostPublisher({ api, repository: config.repository, planForks: config.planForks, plan, statusUrl: config.statusUrl, logger, losses });
}

/** Shutdown waits for pending publications, but not for a git host that does not answer. */
async function drainWithin(drained: Promise<void>, ms: number): Promise<void> {
  await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, ms).unref())]);
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

/** Pushes to the deploy repo itself, with the credentials tend fetches with (in git's environment only). */
function healthyRefPusherOf(settings: DaemonConfig, source: DeploySource, credentials: GitCredentials | undefined, logger: Logger): HealthyRefPusher {
  const timeoutMs = 60_000;
  const remote = settings.source.kind === 'url' ? { remote: settings.source.url, config: nativeRemoteConfig(timeoutMs) } : { remote: settings.source.path, config: ['-c', 'core.hooksPath=/dev/null'] };
  return createHealthyRefPusher({ gitdir: source.gitdir, ...remote, env: nativeFetchEnv(credentials), logger, timeoutMs });
}

function openSource(settings: DaemonConfig, credentials: GitCredentials | undefined): DeploySource {
  if (settings.source.kind === 'path') return localSource({ path: settings.source.path, branch: settings.branch });
  return httpSource({ url: settings.source.url, branch: settings.branch, dir: path.join(settings.stateDir, 'repo'), ...(credentials === undefined ? {} : { credentials }) });
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
export class PassLoop {
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
