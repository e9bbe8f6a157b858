import { randomUUID } from 'node:crypto';
import { asTendError, type ErrorClass, type Issue, type TendError } from '../errors/index.js';
import type { RemoteFiles } from '../hosts/index.js';
import type { Logger, TendMetrics } from '../observability/index.js';
import type { ServicePlan } from '../plan/model.js';
import type { SecretSource } from '../render/index.js';
import { createRevertCommit, decideRevert, isTendRevert, revertedCommitOf, revertMessage, type CandidateCommit, type RevertEvidence } from '../rollback/index.js';
import { applyPlan, nextRetry, type ApplyResult, type RetryPolicy, type ServiceRolloutResult, type StepProgress } from '../rollout/index.js';
import type { CommitInfo, DeploySource } from '../source/index.js';
import { loadRepo } from '../spec/index.js';
import type { RepoSpec } from '../spec/model.js';
import { writeJournal, type Halt, type Journal, type Pause } from '../state/index.js';
import type { CrashPoint } from './crash-points.js';
import type { DaemonStatus, ServiceStatus } from './daemon-status.js';
import { windowOpen } from './deploy-window.js';
import { preparePass } from './reconcile-pass.js';

export interface ReconcilerOptions {
  readonly source: DeploySource;
  readonly pool: RemoteFiles;
  readonly secrets: SecretSource | undefined;
  readonly journalPath: string;
  readonly journal: Journal;
  readonly logger: Logger;
  readonly retry: RetryPolicy;
  /** Author and committer of revert commits. */
  readonly identity: { readonly name: string; readonly email: string };
  readonly crash: (point: CrashPoint) => void;
  readonly metrics?: TendMetrics;
  /** Called with every published status (the notification sink decides what is a transition). */
  readonly onStatus?: (status: DaemonStatus) => void;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

/** Why a pass runs: a full resync re-plans a converged head (drift); the others only act on something new. */
export type PassReason = 'startup' | 'poll' | 'webhook' | 'watch' | 'resync' | 'retry' | 'operator' | 'follow-up';

/** What the loop should do after a pass. */
export type PassOutcome =
  | { readonly kind: 'idle' }
  /** Run again at once: a newer head superseded this pass, or tend pushed a revert to roll out. */
  | { readonly kind: 'again' }
  /** A transient failure: run again after the backoff delay. */
  | { readonly kind: 'retry'; readonly delayMs: number };

const PUSH_ATTEMPTS = 3;

/**
 * One reconcile pass over the deploy repo, in flux's order: observe (fetch, load, look at the hosts),
 * compare (plan), act (roll out, or revert), record (journal, status). The journal is written before every
 * act that a crash must not repeat or forget, so a restarted tend resumes from git, the hosts and the
 * journal, never from memory.
 */
export class Reconciler {
  #journal: Journal;
  #latestHead: string | undefined;
  #fetching: Promise<string | undefined> | undefined;
  #stopping = false;
  #transientAttempts = 0;
  #lastRetryHead: string | undefined;
  #journalWrites: Promise<void> = Promise.resolve();
  readonly #options: ReconcilerOptions;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;
  readonly #log: Logger;
  #status: DaemonStatus;
  #passError: { readonly error: TendError; readonly at: number } | undefined;
  readonly #services = new Map<string, ServiceStatus>();
  /** `service\0host` pairs reported as drifted, cleared once the head converges again. */
  readonly #drifted = new Set<string>();
  #knownServices: ReadonlySet<string> = new Set();

  constructor(options: ReconcilerOptions) {
    this.#options = options;
    this.#journal = options.journal;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#random = options.random ?? Math.random;
    this.#log = options.logger;
    this.#status = {
      version: 1,
      startedAt: this.#now(),
      source: { description: options.source.description, branch: options.source.branch, head: undefined, lastFetchAt: undefined, lastFetchOkAt: undefined, error: undefined },
      lastApplied: this.#journal.lastApplied,
      lastAttempted: this.#journal.lastAttempted,
      stalled: undefined,
      inFlight: undefined,
      services: [],
    };
    this.#publish();
  }

  get status(): DaemonStatus {
    return this.#status;
  }

  /**
   * A pass that threw (a tend bug, or a failure with no better home) is shown as a repo-wide stall until
   * the next pass, which the next trigger runs; it is never hidden behind a healthy-looking status.
   */
  passFailed(error: TendError): void {
    this.#passError = { error, at: this.#now() };
    this.#publish();
  }

  /** Stop at the next safe point: between batches or probes, never between a write and its restart. */
  stop(): void {
    this.#stopping = true;
  }

  /**
   * Fetch the branch head; one fetch at a time (a webhook during a rollout joins the running one). A fetch
   * error is recorded in the status and yields undefined; the caller decides about retrying.
   */
  refreshHead(): Promise<string | undefined> {
    this.#fetching ??= this.#fetch().finally(() => {
      this.#fetching = undefined;
    });
    return this.#fetching;
  }

  async #fetch(): Promise<string | undefined> {
    const at = this.#now();
    try {
      const head = await this.#options.source.fetch();
      if (head !== this.#latestHead) this.#log.info({ commit: head, previous: this.#latestHead }, 'branch head');
      this.#latestHead = head;
      this.#options.metrics?.fetchSucceeded(at);
      this.#status = { ...this.#status, source: { ...this.#status.source, head, lastFetchAt: at, lastFetchOkAt: at, error: undefined } };
      return head;
    } catch (error) {
      const tendError = asTendError(error);
      this.#log.warn({ code: tendError.code, errorClass: tendError.errorClass, err: tendError.message }, 'fetch failed');
      this.#options.metrics?.fetchFailed(tendError.code);
      this.#status = {
        ...this.#status,
        source: { ...this.#status.source, lastFetchAt: at, error: { code: tendError.code, errorClass: tendError.errorClass, message: tendError.message, hint: tendError.hint } },
      };
      if (tendError.errorClass !== 'transient') throw tendError;
      return undefined;
    }
  }

  /** Clears the halts an operator can clear: `tend retry [service]` and `tend ack` (a rewritten history). */
  async operatorClear(kind: 'retry' | 'ack', service: string | undefined): Promise<readonly string[]> {
    const halted = { ...this.#journal.halted };
    const cleared: string[] = [];
    for (const [name, halt] of Object.entries(halted)) {
      const wanted = kind === 'ack' ? halt.code === 'E_HISTORY_REWRITTEN' : service === undefined || name === service;
      if (!wanted) continue;
      delete halted[name];
      cleared.push(name);
    }
    let acknowledgedRewrite = this.#journal.acknowledgedRewrite;
    if (kind === 'ack' && cleared.length > 0) acknowledgedRewrite = this.#latestHead;
    this.#transientAttempts = 0;
    await this.#record({ ...this.#journal, halted, acknowledgedRewrite });
    for (const name of cleared) this.#services.delete(name);
    this.#publish();
    this.#log.info({ kind, service, cleared }, 'operator cleared halts');
    return cleared;
  }

  /** Whether the last loaded commit has this service: only those can be paused. */
  knowsService(service: string): boolean {
    return this.#knownServices.has(service);
  }

  /** `tend pause`: nothing touches the service until `tend resume`; an expired pause still holds, and says so. */
  async pause(service: string, pause: Omit<Pause, 'since'>): Promise<void> {
    const entry: Pause = { ...pause, since: this.#now() };
    await this.#record({ ...this.#journal, paused: { ...this.#journal.paused, [service]: entry } });
    this.#options.metrics?.servicePaused(service, entry.until);
    this.#showPause(service, entry, this.#latestHead);
    this.#log.warn({ service, owner: pause.owner, reason: pause.reason, until: new Date(pause.until).toISOString() }, 'service paused');
  }

  async resume(service: string): Promise<boolean> {
    if (this.#journal.paused[service] === undefined) return false;
    const paused = { ...this.#journal.paused };
    delete paused[service];
    await this.#record({ ...this.#journal, paused });
    this.#options.metrics?.servicePauseLifted(service);
    this.#services.delete(service);
    this.#publish();
    this.#log.info({ service }, 'service resumed');
    return true;
  }

  #showPause(service: string, pause: Pause, head: string | undefined): void {
    const expired = pause.until <= this.#now();
    const until = new Date(pause.until).toISOString();
    this.#setService(service, {
      state: 'Paused',
      code: expired ? 'W_PAUSE_EXPIRED' : 'W_PAUSED',
      message: expired ? `paused by ${pause.owner} (${pause.reason}); the pause expired at ${until} and still holds` : `paused by ${pause.owner} until ${until}: ${pause.reason}`,
      hint: `\`tend resume ${service}\` lets tend roll it out again.`,
      desiredCommit: head,
    });
  }

  async pass(reason: PassReason): Promise<PassOutcome> {
    if (this.#passError !== undefined) {
      this.#passError = undefined;
      this.#publish();
    }
    let head: string | undefined;
    try {
      head = await this.refreshHead();
    } catch (error) {
      // Auth refused, branch missing: no timed retry; the next trigger (a new config, `tend retry`) tries again.
      this.#log.error({ code: asTendError(error).code }, 'source stalled');
      return { kind: 'idle' };
    }
    if (head === undefined) return this.#transient('fetch');
    if (head !== this.#lastRetryHead) {
      this.#transientAttempts = 0;
      this.#lastRetryHead = head;
    }

    const journal = this.#journal;
    if (journal.lastApplied !== undefined && journal.acknowledgedRewrite !== head && !(await this.#options.source.isAncestor(journal.lastApplied, head))) {
      await this.#halt('*', {
        code: 'E_HISTORY_REWRITTEN',
        errorClass: 'conflict',
        message: `the head ${short(head)} of ${this.#options.source.branch} does not descend from ${short(journal.lastApplied)}, the last commit tend applied`,
        hint: 'Someone force-pushed or reset the branch. Check that the new head is what the hosts should run, then `tend ack`.',
        commit: head,
        until: 'operator',
      });
      return { kind: 'idle' };
    }
    await this.#clearOutdatedHalts(head);
    const repoHalt = this.#journal.halted['*'];
    if (repoHalt !== undefined) return { kind: 'idle' };

    const inFlight = this.#journal.inFlight;
    const converged = head === this.#journal.lastApplied && inFlight === undefined;
    if (converged && reason !== 'resync' && reason !== 'retry' && reason !== 'operator' && reason !== 'startup') return { kind: 'idle' };

    const reader = this.#options.source.readerAt(head);
    const loaded = await loadRepo(reader);
    if (!loaded.ok) {
      const first = loaded.issues[0];
      await this.#halt(
        '*',
        {
          code: 'E_INVALID_COMMIT',
          errorClass: 'invalid',
          message: `commit ${short(head)} is invalid (${loaded.issues.length} problem${loaded.issues.length === 1 ? '' : 's'})${first === undefined ? '' : `: ${first.file}:${first.line}:${first.col}: ${first.message}`}`,
          hint: 'Nothing was changed on any host; the hosts keep running the last good commit. Fix the spec in a new commit (`tend validate` shows every problem).',
          commit: head,
          until: 'new-commit',
        },
        loaded.issues,
      );
      for (const issue of loaded.issues) this.#log.error({ commit: head, code: issue.code, file: issue.file, line: issue.line, col: issue.col }, issue.message);
      return { kind: 'idle' };
    }
    this.#knownServices = new Set(loaded.repo.services.map((one) => one.name));
    this.#options.metrics?.specLoaded({ services: loaded.repo.services.map((one) => one.name), hosts: loaded.repo.inventory.hosts.map((one) => one.name) });
    // Killed between recording a bad commit and pushing its revert: finish the revert, do not roll out again.
    if (inFlight?.commit === head && inFlight.phase === 'reverting' && inFlight.revert !== undefined) {
      return this.#revert(head, loaded.repo, inFlight.revert.service, inFlight.revert.evidence);
    }
    return this.#rollOut(head, loaded.repo, reader, reason, converged);
  }

  /** `converged`: the head is the last applied commit with nothing in flight, so any change found is drift. */
  async #rollOut(head: string, repo: RepoSpec, reader: ReturnType<DeploySource['readerAt']>, reason: PassReason, converged: boolean): Promise<PassOutcome> {
    const resumed = this.#journal.inFlight?.commit === head ? this.#journal.inFlight : undefined;
    const unverified = resumed === undefined ? undefined : (service: string, host: string) => (resumed.planned[service] ?? []).includes(host) && !(resumed.verified[service] ?? []).includes(host);
    let pass;
    try {
      pass = await preparePass(repo, this.#options.secrets, this.#options.pool, unverified);
    } catch (error) {
      const tendError = asTendError(error);
      if (tendError.errorClass === 'transient') return this.#transient(tendError.code);
      await this.#halt('*', { code: tendError.code, errorClass: tendError.errorClass, message: tendError.message, hint: tendError.hint, commit: head, until: 'new-commit' });
      return { kind: 'idle' };
    }
    if (!pass.planResult.ok) {
      const error = pass.planResult.error;
      await this.#halt('*', { code: error.code, errorClass: error.errorClass, message: error.message, hint: error.hint, commit: head, until: 'new-commit' });
      return { kind: 'idle' };
    }
    for (const observed of pass.observed.values()) this.#options.metrics?.hostObserved(observed.host, observed.reachable);
    const headCommit = await this.#options.source.commit(head);
    const isRollback = isTendRevert(headCommit.message);
    const now = this.#now();
    const waiting = new Set<string>();
    const halted = this.#journal.halted;
    const services: ServicePlan[] = [];
    for (const plan of pass.planResult.plan.services) {
      if (halted[plan.service] !== undefined) continue;
      const pause = this.#journal.paused[plan.service];
      if (pause !== undefined) {
        this.#showPause(plan.service, pause, head);
        continue;
      }
      if (converged && plan.batches.length > 0) {
        // No new commit, yet a host differs from git: someone changed it by hand. Put it back, and say so.
        const hosts = plan.batches.flat();
        for (const step of hosts) {
          this.#drifted.add(`${plan.service}\u0000${step.host}`);
          this.#options.metrics?.driftObserved(plan.service, step.host, true);
        }
        this.#log.warn({ service: plan.service, commit: head, hosts: hosts.map((step) => step.host), reasons: hosts.flatMap((step) => step.reasons.map((one) => one.detail)) }, 'drift detected; restoring the committed state');
        this.#setService(plan.service, { state: 'Drifted', code: 'W_DRIFT', message: `${hosts.map((step) => step.host).join(', ')} differ from ${short(head)} with no new commit; restoring`, desiredCommit: head });
      }
      const spec = repo.services.find((service) => service.name === plan.service);
      const changes = plan.batches.length > 0;
      // A rollback restores health; it never waits for a window the failed rollout already used.
      if (changes && !isRollback && spec?.deploy.window !== undefined && !windowOpen(spec.deploy.window, now)) {
        waiting.add(plan.service);
        this.#setService(plan.service, { state: 'Waiting', code: 'W_DEPLOY_WINDOW', message: `waits for its deploy window (${spec.deploy.window})`, desiredCommit: head, window: spec.deploy.window });
        continue;
      }
      services.push(plan);
    }
    const plan = { ...pass.planResult.plan, services, empty: services.every((one) => one.batches.length === 0) && pass.planResult.plan.prunes.length === 0 };
    const skippedHosts = services.some((one) => one.unreachable.length > 0 || one.blocked.length > 0);
    if (plan.empty && !skippedHosts) {
      await this.#converged(head, repo, waiting);
      return { kind: 'idle' };
    }

    const rolloutId = resumed?.rolloutId ?? randomUUID();
    const planned: Record<string, string[]> = {};
    for (const service of services) {
      planned[service.service] = [...new Set([...(resumed?.planned[service.service] ?? []), ...service.batches.flat().map((step) => step.host)])];
    }
    await this.#record({
      ...this.#journal,
      lastAttempted: head,
      inFlight: { rolloutId, commit: head, startedAt: resumed?.startedAt ?? now, phase: 'rolling', planned, verified: resumed?.verified ?? {}, revert: undefined },
    });
    for (const service of services) {
      if (service.batches.length > 0 && !converged) this.#setService(service.service, { state: 'Progressing', code: undefined, message: `rolling out ${short(head)}`, desiredCommit: head });
    }
    this.#log.info({ commit: head, rolloutId, reason, services: services.filter((one) => one.batches.length > 0).map((one) => one.service), rollback: isRollback }, 'rollout started');

    const result = await applyPlan(
      { repo, plan, observed: pass.observed, rendered: pass.rendered },
      {
        pool: this.#options.pool,
        now: this.#now,
        sleep: this.#sleep,
        readArtifact: async (service) => {
          if (service.run.kind !== 'artifact') throw new Error(`${service.name} has no artifact`);
          return reader.readFile(service.run.path);
        },
        onProgress: (event) => this.#onProgress(event, head, rolloutId, isRollback),
        keepReleases: repo.settings.keepReleases,
        superseded: () => this.#stopping || (this.#latestHead !== undefined && this.#latestHead !== head),
        onProbe: (service, _host, probe) => this.#options.metrics?.probeFinished(service, probe.latencyMs),
      },
    );
    await this.#journalWrites;
    return this.#afterRollout(head, repo, headCommit, rolloutId, result, waiting);
  }

  #onProgress(event: StepProgress, head: string, rolloutId: string, isRollback: boolean): void {
    const fields = { service: event.service, host: event.host, commit: head, rolloutId, phase: event.phase };
    if (event.phase === 'failed' || event.phase === 'unreachable') this.#log.warn(fields, event.detail);
    else this.#log.info(fields, event.detail);
    if (event.phase === 'healthy') {
      const inFlight = this.#journal.inFlight;
      if (inFlight !== undefined && inFlight.commit === head) {
        const verified = { ...inFlight.verified, [event.service]: [...(inFlight.verified[event.service] ?? []), event.host] };
        this.#journalWrites = this.#journalWrites.then(() => this.#record({ ...this.#journal, inFlight: { ...inFlight, verified } }));
      }
    }
    const point: CrashPoint | undefined = isRollback ? (event.phase === 'probe' ? 'rollback-probe' : undefined) : event.phase === 'superseded' || event.phase === 'failed' || event.phase === 'unreachable' ? undefined : event.phase;
    if (point !== undefined) this.#options.crash(point);
  }

  async #afterRollout(head: string, repo: RepoSpec, headCommit: CommitInfo, rolloutId: string, result: ApplyResult, waiting: ReadonlySet<string>): Promise<PassOutcome> {
    const now = this.#now();
    for (const one of result.services) {
      if (one.result === 'unchanged') continue;
      this.#options.metrics?.rolloutFinished(one.service, one.result);
      if (one.result === 'succeeded') this.#options.metrics?.serviceHealthyAt(one.service, headCommit.committedAt, now);
    }
    const healthy = result.services.filter((one) => one.result === 'succeeded' || one.result === 'unchanged').map((one) => one.service);
    await this.#record({ ...this.#journal, services: stableAt(this.#journal.services, healthy, head, now) });

    if (result.services.some((one) => one.result === 'superseded')) {
      this.#log.info({ commit: head, rolloutId, newer: this.#latestHead }, 'rollout superseded by a newer commit');
      await this.#record({ ...this.#journal, inFlight: undefined });
      return this.#stopping ? { kind: 'idle' } : { kind: 'again' };
    }
    if (result.ok) {
      await this.#converged(head, repo, waiting, isTendRevert(headCommit.message) ? headCommit : undefined);
      this.#log.info({ commit: head, rolloutId }, 'rollout converged');
      return { kind: 'idle' };
    }

    const changeFailure = result.services.find((one) => one.result === 'failed-change');
    for (const one of result.services) {
      if (one.result === 'failed-conflict' || one.result === 'failed-invalid' || one.result === 'failed-internal') {
        await this.#halt(one.service, { ...haltOf(one), commit: head, until: 'new-commit' });
      } else if (one.result === 'skipped') {
        this.#setService(one.service, { state: 'Degraded', code: one.code, errorClass: undefined, message: one.detail, desiredCommit: head });
      }
    }
    if (changeFailure !== undefined) {
      const evidence = evidenceOf(changeFailure, rolloutId);
      this.#log.error({ service: changeFailure.service, commit: head, rolloutId, code: changeFailure.code, hosts: evidence.failedHosts }, 'rollout failed because of the change');
      // The host's code (E_HEALTHY_DEADLINE, E_UNIT_FAILED) says what broke; the stop code only how it was stopped.
      this.#setService(changeFailure.service, {
        state: 'Degraded',
        code: evidence.errorCode,
        errorClass: 'change',
        message: `${changeFailure.detail} (${changeFailure.code ?? 'stopped'})`,
        desiredCommit: head,
        failedHosts: evidence.failedHosts,
      });
      return this.#revert(head, repo, changeFailure.service, evidence);
    }
    const transient = result.services.find((one) => one.result === 'failed-transient');
    if (transient !== undefined) return this.#transient(transient.code ?? 'E_TRANSIENT', transient);
    await this.#record({ ...this.#journal, inFlight: undefined });
    return { kind: 'idle' };
  }

  /** Revert what broke `service` at `head`, push it, and let the next pass roll the hosts back. */
  async #revert(head: string, repo: RepoSpec, service: string, evidence: RevertEvidence): Promise<PassOutcome> {
    const source = this.#options.source;
    const current = await this.refreshHead().catch(() => undefined);
    const journal = this.#journal;
    const spec = repo.services.find((one) => one.name === service);
    const baseline = journal.services[service]?.stableCommit;
    const since = baseline === undefined || !(await source.isAncestor(baseline, head)) ? undefined : await source.commitsBetween(baseline, head);
    const candidates = since === undefined ? undefined : await Promise.all(since.map((commit) => candidateOf(source, commit)));
    const alreadyReverted = new Set(Object.entries(journal.knownBad).flatMap(([sha, bad]) => (bad.revertedBy === undefined ? [] : [sha])));
    for (const commit of since ?? []) {
      const reverted = revertedCommitOf(commit.message);
      if (reverted !== undefined) alreadyReverted.add(reverted);
    }
    const decision = decideRevert({
      service,
      autoRollback: spec?.deploy.autoRollback ?? true,
      failedCommit: head,
      currentHead: current ?? head,
      sinceStable: candidates,
      alreadyReverted,
    });
    if (decision.kind === 'superseded') {
      this.#log.info({ service, commit: head, newer: current }, 'not reverting: a newer commit is the desired state');
      await this.#record({ ...this.#journal, inFlight: undefined });
      return { kind: 'again' };
    }
    if (decision.kind === 'halt') {
      this.#options.metrics?.rollbackFinished(service, decision.code === 'E_ROLLBACK_FAILED' ? 'failed' : 'halted');
      await this.#halt(service, {
        code: decision.code,
        errorClass: 'conflict',
        message: decision.message,
        hint: decision.hint,
        commit: head,
        until: decision.code === 'E_ROLLBACK_FAILED' ? 'operator' : 'new-commit',
      });
      await this.#record({ ...this.#journal, inFlight: undefined });
      return { kind: 'idle' };
    }

    const knownBad = { ...this.#journal.knownBad };
    for (const commit of decision.commits) knownBad[commit.sha] = { service, code: evidence.errorCode, at: this.#now(), revertedBy: undefined, rolloutId: evidence.rolloutId };
    const inFlight = this.#journal.inFlight;
    await this.#record({
      ...this.#journal,
      knownBad,
      inFlight: { rolloutId: evidence.rolloutId, commit: head, startedAt: inFlight?.startedAt ?? this.#now(), phase: 'reverting', planned: inFlight?.planned ?? {}, verified: inFlight?.verified ?? {}, revert: { service, evidence } },
    });
    this.#options.crash('after-known-bad');

    let onto = head;
    try {
      for (const commit of decision.commits) {
        const info = await source.commit(commit.sha);
        const created = await createRevertCommit({
          gitdir: source.gitdir,
          onto,
          revert: commit.sha,
          message: revertMessage({ sha: info.sha, subject: info.subject, parents: info.parents }, evidence),
          identity: this.#options.identity,
        });
        onto = created.sha;
      }
    } catch (error) {
      const tendError = asTendError(error);
      this.#options.metrics?.rollbackFinished(service, tendError.code === 'E_REVERT_CONFLICT' ? 'conflict' : 'failed');
      await this.#halt(service, { code: tendError.code, errorClass: tendError.errorClass, message: tendError.message, hint: tendError.hint, commit: head, until: 'new-commit' });
      await this.#record({ ...this.#journal, inFlight: undefined });
      return { kind: 'idle' };
    }
    this.#options.crash('after-revert-commit');

    const pushed = await this.#push(onto, head, service);
    if (pushed !== 'pushed') return pushed;
    this.#options.crash('after-push');
    this.#options.metrics?.rollbackFinished(service, 'pushed');
    const revertedBy = { ...this.#journal.knownBad };
    for (const commit of decision.commits) {
      const bad = revertedBy[commit.sha];
      if (bad !== undefined) revertedBy[commit.sha] = { ...bad, revertedBy: onto };
    }
    await this.#record({ ...this.#journal, knownBad: revertedBy, inFlight: undefined });
    this.#log.warn({ service, commit: head, revert: onto, reverted: decision.commits.map((one) => one.sha), rolloutId: evidence.rolloutId, code: evidence.errorCode }, 'pushed revert commit');
    this.#setService(service, { state: 'Degraded', code: evidence.errorCode, errorClass: 'change', message: `reverted by ${short(onto)}; rolling back`, desiredCommit: onto, revertCommit: onto });
    await this.refreshHead().catch(() => undefined);
    return { kind: 'again' };
  }

  async #push(sha: string, head: string, service: string): Promise<'pushed' | PassOutcome> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.#options.source.push(sha, head);
        return 'pushed';
      } catch (error) {
        const tendError = asTendError(error);
        if (tendError.code === 'E_PUSH_RACE') {
          // Someone pushed meanwhile: their commit is the desired state now, not our revert of the old one.
          this.#log.info({ service, commit: head }, 'revert push lost a race; re-planning against the new head');
          await this.refreshHead().catch(() => undefined);
          await this.#record({ ...this.#journal, inFlight: undefined });
          return { kind: 'again' };
        }
        const retry = tendError.errorClass === 'transient' ? nextRetry(attempt, { ...this.#options.retry, maxAttempts: Math.min(PUSH_ATTEMPTS, this.#options.retry.maxAttempts) }, this.#random) : undefined;
        if (retry?.kind === 'retry') {
          this.#log.warn({ service, code: tendError.code, attempt }, 'revert push failed; retrying');
          await this.#sleep(retry.delayMs);
          continue;
        }
        this.#options.metrics?.rollbackFinished(service, tendError.errorClass === 'transient' ? 'failed' : 'conflict');
        await this.#halt(service, { code: tendError.code, errorClass: tendError.errorClass === 'transient' ? 'transient' : 'conflict', message: `pushing the revert failed: ${tendError.message}`, hint: tendError.hint, commit: head, until: 'new-commit' });
        return { kind: 'idle' };
      }
    }
  }

  async #transient(code: string, failure?: ServiceRolloutResult): Promise<PassOutcome> {
    this.#transientAttempts += 1;
    const decision = nextRetry(this.#transientAttempts, this.#options.retry, this.#random);
    const service = failure?.service;
    if (decision.kind === 'retry') {
      this.#log.warn({ code, service, attempt: this.#transientAttempts, delayMs: decision.delayMs }, 'transient failure; retrying');
      if (service !== undefined) {
        this.#setService(service, { state: 'Degraded', code, errorClass: 'transient', message: failure?.detail ?? code, nextAttemptAt: this.#now() + decision.delayMs });
      }
      return { kind: 'retry', delayMs: decision.delayMs };
    }
    // The budget is spent: surface it and stop retrying; a new commit, the resync schedule or `tend retry` tries again.
    this.#log.error({ code, service, attempts: decision.attempts }, 'transient failure persisted; giving up until the next commit, resync or tend retry');
    if (service !== undefined) {
      this.#setService(service, { state: 'Stalled', code: 'E_RETRIES_EXHAUSTED', errorClass: 'transient', message: `${failure?.detail ?? code} (${decision.attempts} attempts)`, hint: 'Check the hosts named in the failure; the resync schedule or `tend retry` tries again.' });
    }
    this.#transientAttempts = 0;
    return { kind: 'idle' };
  }

  async #converged(head: string, repo: RepoSpec, waiting: ReadonlySet<string>, revert?: CommitInfo): Promise<void> {
    const now = this.#now();
    const settled = repo.services
      .map((spec) => spec.name)
      .filter((name) => !waiting.has(name) && this.#journal.halted[name] === undefined && this.#journal.paused[name] === undefined);
    const services = stableAt(this.#journal.services, settled, head, now);
    const fullyApplied = waiting.size === 0 && repo.services.every((spec) => this.#journal.halted[spec.name] === undefined && this.#journal.paused[spec.name] === undefined);
    await this.#record({ ...this.#journal, services, inFlight: undefined, ...(fullyApplied ? { lastApplied: head } : {}) });
    if (fullyApplied) this.#options.metrics?.commitApplied(head, now);
    for (const key of this.#drifted) {
      const [service, host] = key.split('\u0000') as [string, string];
      this.#options.metrics?.driftObserved(service, host, false);
    }
    this.#drifted.clear();
    this.#transientAttempts = 0;
    const reverted = revert === undefined ? undefined : revertedCommitOf(revert.message);
    for (const spec of repo.services) {
      if (waiting.has(spec.name) || this.#journal.halted[spec.name] !== undefined || this.#journal.paused[spec.name] !== undefined) continue;
      const previous = this.#services.get(spec.name);
      const rolledBack = reverted !== undefined && this.#journal.knownBad[reverted]?.service === spec.name;
      if (rolledBack) {
        this.#setService(spec.name, { state: 'RolledBack', code: this.#journal.knownBad[reverted]?.code, errorClass: 'change', message: `${short(reverted)} was reverted by ${short(head)}; hosts run the previous version`, desiredCommit: head, revertCommit: head });
      } else if (previous?.state !== 'RolledBack' || previous.desiredCommit !== head) {
        this.#setService(spec.name, { state: 'Synced', code: undefined, errorClass: undefined, message: 'every host runs the desired commit and is healthy', desiredCommit: head });
      }
    }
  }

  async #halt(scope: string, halt: Omit<Halt, 'since'>, issues: readonly Issue[] = []): Promise<void> {
    const existing = this.#journal.halted[scope];
    const since = existing !== undefined && existing.code === halt.code && existing.commit === halt.commit ? existing.since : this.#now();
    if (existing === undefined || existing.code !== halt.code || existing.commit !== halt.commit) {
      this.#log.error({ service: scope === '*' ? undefined : scope, commit: halt.commit, code: halt.code, errorClass: halt.errorClass, hint: halt.hint }, halt.message);
    }
    await this.#record({ ...this.#journal, halted: { ...this.#journal.halted, [scope]: { ...halt, since } } });
    if (scope === '*') {
      this.#status = { ...this.#status, stalled: { code: halt.code, errorClass: halt.errorClass, message: halt.message, hint: halt.hint, commit: halt.commit, since, issues } };
    } else {
      this.#setService(scope, { state: 'Stalled', code: halt.code, errorClass: halt.errorClass, message: halt.message, hint: halt.hint, desiredCommit: halt.commit });
    }
    this.#publish();
  }

  /** A halt that waits for a new commit clears once the head moved past the commit it was about. */
  async #clearOutdatedHalts(head: string): Promise<void> {
    const halted = { ...this.#journal.halted };
    let changed = false;
    for (const [scope, halt] of Object.entries(halted)) {
      if (halt.until === 'new-commit' && halt.commit !== head) {
        delete halted[scope];
        changed = true;
        if (scope !== '*') this.#services.delete(scope);
        this.#log.info({ service: scope === '*' ? undefined : scope, code: halt.code, commit: head }, 'new commit clears halt');
      }
    }
    if (changed) await this.#record({ ...this.#journal, halted });
    if (halted['*'] === undefined && this.#status.stalled !== undefined) this.#status = { ...this.#status, stalled: undefined };
    this.#publish();
  }

  #setService(service: string, fields: Partial<ServiceStatus> & Pick<ServiceStatus, 'state' | 'message'>): void {
    const previous = this.#services.get(service);
    const same = previous?.state === fields.state && previous.code === fields.code;
    this.#services.set(service, {
      service,
      code: undefined,
      errorClass: undefined,
      hint: undefined,
      desiredCommit: undefined,
      ...fields,
      stableCommit: this.#journal.services[service]?.stableCommit,
      since: same ? previous.since : this.#now(),
    });
    this.#publish();
  }

  async #record(journal: Journal): Promise<void> {
    this.#journal = journal;
    await writeJournal(this.#options.journalPath, journal);
    this.#publish();
  }

  #publish(): void {
    const journal = this.#journal;
    const inFlight = journal.inFlight;
    const halt = journal.halted['*'];
    this.#status = {
      ...this.#status,
      lastApplied: journal.lastApplied,
      lastAttempted: journal.lastAttempted,
      stalled:
        halt !== undefined
          ? (this.#status.stalled ?? { code: halt.code, errorClass: halt.errorClass, message: halt.message, hint: halt.hint, commit: halt.commit, since: halt.since, issues: [] })
          : this.#passError === undefined
            ? undefined
            : { code: this.#passError.error.code, errorClass: this.#passError.error.errorClass, message: this.#passError.error.message, hint: this.#passError.error.hint, commit: this.#latestHead, since: this.#passError.at, issues: [] },
      inFlight: inFlight === undefined ? undefined : { rolloutId: inFlight.rolloutId, commit: inFlight.commit, phase: inFlight.phase, startedAt: inFlight.startedAt },
      services: [...this.#services.values()].sort((a, b) => a.service.localeCompare(b.service)),
    };
    this.#options.metrics?.statusPublished(this.#status);
    this.#options.onStatus?.(this.#status);
  }
}

/** The services now proven healthy at `head`; one already stable there keeps the time it became so. */
function stableAt(records: Journal['services'], names: readonly string[], head: string, now: number): Journal['services'] {
  const next = { ...records };
  for (const name of names) {
    const previous = next[name];
    next[name] = { stableCommit: head, since: previous?.stableCommit === head ? previous.since : now };
  }
  return next;
}

function haltOf(result: ServiceRolloutResult): Omit<Halt, 'since' | 'commit' | 'until'> {
  const cause = result.outcome?.cause;
  const errorClass: ErrorClass = cause?.errorClass ?? (result.result === 'failed-invalid' ? 'invalid' : result.result === 'failed-internal' ? 'internal' : 'conflict');
  const step = result.steps.find((one) => one.outcome !== 'healthy');
  return {
    code: cause?.code ?? result.code ?? 'E_ROLLOUT_FAILED',
    errorClass,
    message: `${result.service}: ${cause === undefined ? result.detail : `${cause.host}: ${cause.detail}`}`,
    hint: step?.hint ?? 'A person must act: see the message; nothing is retried until a new commit or `tend retry`.',
  };
}

function evidenceOf(result: ServiceRolloutResult, rolloutId: string): RevertEvidence {
  const failed = result.steps.filter((step) => step.outcome === 'failed' && step.errorClass === 'change');
  const probe = failed.find((step) => step.lastProbe !== undefined)?.lastProbe;
  return {
    service: result.service,
    failedHosts: failed.map((step) => step.host),
    errorCode: failed[0]?.code ?? result.code ?? 'E_ROLLOUT_FAILED',
    probe:
      probe === undefined
        ? undefined
        : `${probe.ok ? 'ok' : 'failed'}${probe.status === undefined ? '' : ` status ${probe.status}`}${probe.error === undefined ? '' : ` ${probe.error}`} after ${probe.latencyMs} ms`,
    rolloutId,
  };
}

async function candidateOf(source: DeploySource, commit: CommitInfo): Promise<CandidateCommit> {
  return {
    sha: commit.sha,
    subject: commit.subject,
    changedPaths: await source.changedPaths(commit.sha),
    isRevert: revertedCommitOf(commit.message) !== undefined,
    writtenByTend: isTendRevert(commit.message),
  };
}

function short(sha: string): string {
  return sha.slice(0, 12);
}
