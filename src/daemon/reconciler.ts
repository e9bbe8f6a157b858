import { randomUUID } from 'node:crypto';
import { asTendError, type TendError } from '../errors/index.js';
import type { Logger, TendMetrics } from '../observability/index.js';
import { preparePass, type Fleet, type PreparedPass } from '../pass/index.js';
import type { ResumePoint } from '../plan/index.js';
import type { SecretSource } from '../render/index.js';
import { decideRevert, isTendRevert, revertedCommitOf, revertMessage, type CandidateCommit, type RevertEvidence } from '../rollback/index.js';
import { nextRetry, type ApplyResult, type RetryPolicy, type StepProgress } from '../rollout/index.js';
import { shortCommit } from '../source/commit-id.js';
import type { CommitInfo, DeploySource } from '../source/index.js';
import { LoadCache, loadRepo, type LoadResult } from '../spec/index.js';
import type { RepoSpec, ServiceSpec } from '../spec/model.js';
import { writeJournal, type Halt, type Journal, type Pause } from '../state/index.js';
import { statusOf, type DaemonStatus, type SourceStatus } from '../status/index.js';
import { appliedAt, exhaustedHalt, judgeApply, keepSince, passHalt } from './apply-verdict.js';
import { conditionsForServices, withConditions, type ConditionFields } from './conditions.js';
import type { CrashHook, CrashPoint } from './crash-points.js';
import { nextWindowOpening } from './deploy-window.js';
import { hostsAfterPass } from './host-records.js';
import { grantAttempt, nextAttemptAt, spendAttempt } from './retry-budget.js';
import { appendRollouts, rolloutRecordsOf, withRevertCommit } from './rollout-history.js';
import { carryForward, conditionOfHold, gatePlan, holdAllBeforeObserve, type Hold, type PassReason } from './service-gate.js';

export type { PassReason } from './service-gate.js';

/** Writes the revert commit of `revert` onto `onto` (git's revert, git's message) and returns its sha. */
export type CreateRevert = (input: { readonly onto: string; readonly revert: string; readonly message: string }) => Promise<string>;

export interface ReconcilerOptions {
  readonly source: DeploySource;
  readonly fleet: Fleet;
  readonly secrets: SecretSource | undefined;
  readonly journalPath: string;
  readonly journal: Journal;
  readonly logger: Logger;
  readonly retry: RetryPolicy;
  readonly createRevert: CreateRevert;
  readonly crash: CrashHook;
  readonly metrics?: TendMetrics;
  /** Called with every published status (the notification sink decides what is a transition). */
  readonly onStatus?: (status: DaemonStatus) => void;
  /** Where the journal goes; tests keep it in memory. */
  readonly writeJournal?: (path: string, journal: Journal) => Promise<void>;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  /**
   * Asked before each effect that must not happen twice: a host step beginning (the rollout stops at that
   * safe point, as when superseded) and a revert push. With `ha`: whether this instance still holds the
   * leader's lease. Without it, always yes.
   */
  readonly mayAct?: () => boolean;
  /** Who this tend is, as host steps name it in each host's journal: `ha.identity`, or the host name. */
  readonly identity: string;
}

/** What the loop should do after a pass. */
export type PassOutcome =
  /** Nothing to do until a trigger; `wakeAt`: a deploy window opens then. */
  | { readonly kind: 'idle'; readonly wakeAt?: number }
  /** Run again at once: a newer head superseded this pass, or tend pushed a revert to roll out. */
  | { readonly kind: 'again' }
  /** A transient failure backs off: run again after the delay. */
  | { readonly kind: 'retry'; readonly delayMs: number };

const PUSH_ATTEMPTS = 3;

/**
 * One reconcile pass over the deploy repo, shaped like flux's reconcilers: steps that gather facts (fetch,
 * load, observe, apply), pure functions that decide (`holdBeforeObserve`/`gatePlan`: who may act;
 * `judgeApply`: what a result means and what comes next; `decideRevert`), and this class, which only
 * carries effects out and writes the journal at the points a crash must not undo (see `CrashPoint`).
 * Status is never kept here: `statusOf` derives it from the journal after every write.
 */
export class Reconciler {
  #journal: Journal;
  #latestHead: string | undefined;
  #fetching: Promise<string | undefined> | undefined;
  #fetchAttempts = 0;
  #stopping = false;
  #settled = false;
  #loaded: { readonly head: string; readonly repo: RepoSpec } | undefined;
  #headLoad: { readonly head: string; readonly result: Promise<LoadResult> } | undefined;
  /** A new head is loaded from what it changed: its parent's inventory and unchanged services are reused. */
  readonly #loadCache = new LoadCache();
  #journalWrites: Promise<void> = Promise.resolve();
  #source: SourceStatus;
  #passError: { readonly code: string; readonly errorClass: TendError['errorClass']; readonly message: string; readonly hint: string | undefined; readonly at: number } | undefined;
  readonly #startedAt: number;
  readonly #options: ReconcilerOptions;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;
  readonly #write: (path: string, journal: Journal) => Promise<void>;
  readonly #log: Logger;

  constructor(options: ReconcilerOptions) {
    this.#options = options;
    this.#journal = options.journal;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#random = options.random ?? Math.random;
    this.#write = options.writeJournal ?? writeJournal;
    this.#log = options.logger;
    this.#startedAt = this.#now();
    this.#source = { description: options.source.description, branch: options.source.branch, head: undefined, lastFetchAt: undefined, lastFetchOkAt: undefined, error: undefined };
    this.#publish();
  }

  /** Derived afresh at each read, so a pause that expired since the last write already says so. */
  get status(): DaemonStatus {
    return this.#view();
  }

  /** The journal as last written: what a restarted tend would start from. */
  get journal(): Journal {
    return this.#journal;
  }

  /**
   * A pass that threw (a tend bug, or a failure with no better home) is shown as a repo-wide stall until
   * the next pass, which the next trigger runs; it is never hidden behind a healthy-looking status.
   */
  passFailed(error: TendError): void {
    this.#passError = { code: error.code, errorClass: error.errorClass, message: error.message, hint: error.hint, at: this.#now() };
    this.#settled = true;
    this.#publish();
  }

  /** Stop at the next safe point: between batches or probes, never between a write and its restart. */
  stop(): void {
    this.#stopping = true;
  }

  /**
   * Fetch the branch head; one fetch at a time (a webhook during a rollout joins the running one). A
   * transient fetch error is shown in the status and yields undefined; any other throws.
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
      if (head !== this.#latestHead) {
        this.#log.info({ commit: head, previous: this.#latestHead }, 'branch head');
        // A new commit may carry a new host key or user: hosts that refused tend are asked again.
        if (this.#latestHead !== undefined) this.#options.fleet.forgetRefusals();
      }
      this.#latestHead = head;
      this.#fetchAttempts = 0;
      this.#options.metrics?.fetchSucceeded(at);
      this.#source = { ...this.#source, head, lastFetchAt: at, lastFetchOkAt: at, error: undefined };
      this.#publish();
      return head;
    } catch (error) {
      const tendError = asTendError(error);
      this.#log.warn({ code: tendError.code, errorClass: tendError.errorClass, err: tendError.message }, 'fetch failed');
      this.#options.metrics?.fetchFailed(tendError.code);
      this.#source = { ...this.#source, lastFetchAt: at, error: { code: tendError.code, errorClass: tendError.errorClass, message: tendError.message, hint: tendError.hint } };
      this.#publish();
      if (tendError.errorClass !== 'transient') throw tendError;
      return undefined;
    }
  }

  /**
   * `tend retry [service]` and `tend ack` (a rewritten history). A retry lifts a halt that waits for a
   * person; on a spent retry budget it grants exactly one attempt more, and on a service backing off it
   * makes the next attempt now. Returns the services (or `*`) it acted on.
   */
  async operatorClear(kind: 'retry' | 'ack', service: string | undefined): Promise<readonly string[]> {
    const journal = this.#journal;
    const halted = { ...journal.halted };
    const retries = { ...journal.retries };
    const cleared: string[] = [];
    for (const [name, halt] of Object.entries(journal.halted)) {
      const wanted = kind === 'ack' ? halt.code === 'E_HISTORY_REWRITTEN' : service === undefined || name === service;
      if (!wanted) continue;
      const budget = retries[name];
      if (halt.code === 'E_RETRIES_EXHAUSTED' && budget !== undefined) {
        retries[name] = grantAttempt(budget);
      } else {
        delete halted[name];
        delete retries[name];
      }
      cleared.push(name);
    }
    if (kind === 'retry') {
      for (const [name, budget] of Object.entries(journal.retries)) {
        if (cleared.includes(name) || budget.nextAt === undefined || (service !== undefined && name !== service)) continue;
        retries[name] = { ...budget, nextAt: this.#now() };
        cleared.push(name);
      }
    }
    // A person says the cause is fixed: a host that refused tend's key or login may be asked again.
    if (kind === 'retry') this.#options.fleet.forgetRefusals();
    const acknowledgedRewrite = kind === 'ack' && cleared.length > 0 ? this.#latestHead : journal.acknowledgedRewrite;
    await this.#record({ ...journal, halted, retries, acknowledgedRewrite });
    this.#log.info({ kind, service, cleared }, 'operator cleared halts');
    return cleared;
  }

  /** Whether the last loaded commit has this service: only those can be paused. */
  knowsService(service: string): boolean {
    return this.#journal.conditions[service] !== undefined;
  }

  /** `tend pause`: nothing touches the service until `tend resume`; an expired pause still holds, and says so. */
  async pause(service: string, pause: Omit<Pause, 'since'>): Promise<void> {
    const entry: Pause = { ...pause, since: this.#now() };
    await this.#record({ ...this.#journal, paused: { ...this.#journal.paused, [service]: entry } });
    this.#options.metrics?.servicePaused(service, entry.until);
    this.#log.warn({ service, owner: pause.owner, reason: pause.reason, until: new Date(pause.until).toISOString() }, 'service paused');
  }

  async resume(service: string): Promise<boolean> {
    if (this.#journal.paused[service] === undefined) return false;
    const paused = { ...this.#journal.paused };
    delete paused[service];
    await this.#record({ ...this.#journal, paused });
    this.#options.metrics?.servicePauseLifted(service);
    this.#log.info({ service }, 'service resumed');
    return true;
  }

  async pass(reason: PassReason): Promise<PassOutcome> {
    this.#log.info({ reason }, 'pass started');
    if (this.#passError !== undefined) {
      this.#passError = undefined;
      this.#publish();
    }
    try {
      return await this.#pass(reason);
    } finally {
      if (!this.#settled) {
        this.#settled = true;
        this.#publish();
      }
    }
  }

  async #pass(reason: PassReason): Promise<PassOutcome> {
    let head: string | undefined;
    try {
      head = await this.refreshHead();
    } catch (error) {
      // Auth refused, branch missing: no timed retry; the next trigger (a new config, `tend retry`) tries again.
      this.#log.error({ code: asTendError(error).code }, 'source stalled');
      return { kind: 'idle' };
    }
    if (head === undefined) return this.#fetchFailed();

    const journal = this.#journal;
    if (journal.lastApplied !== undefined && journal.acknowledgedRewrite !== head && !(await this.#options.source.isAncestor(journal.lastApplied, head))) {
      await this.#halt('*', {
        code: 'E_HISTORY_REWRITTEN',
        errorClass: 'conflict',
        message: `the head ${shortCommit(head)} of ${this.#options.source.branch} does not descend from ${shortCommit(journal.lastApplied)}, the last commit tend applied`,
        hint: 'Someone force-pushed or reset the branch. Check that the new head is what the hosts should run, then `tend ack`.',
        commit: head,
        until: 'operator',
        issues: [],
      });
      return { kind: 'idle' };
    }
    await this.#record(this.#forHead(this.#journal, head, reason));
    const repoHalt = this.#journal.halted['*'];
    if (repoHalt !== undefined && !(repoHalt.code === 'E_RETRIES_EXHAUSTED' && grantedAt(this.#journal, '*', head))) return { kind: 'idle' };
    const repoBackoff = this.#journal.retries['*'];
    if (repoBackoff?.commit === head && repoBackoff.nextAt !== undefined && repoBackoff.nextAt > this.#now()) return { kind: 'retry', delayMs: repoBackoff.nextAt - this.#now() };

    const inFlight = this.#journal.inFlight;
    const converged = head === this.#journal.lastApplied && inFlight === undefined;
    if (converged && reason !== 'resync' && reason !== 'retry' && reason !== 'operator' && reason !== 'startup') return { kind: 'idle' };

    const repo = await this.#load(head);
    if (repo === undefined) return { kind: 'idle' };
    // Killed between recording a bad commit and pushing its revert: finish the revert, do not roll out again.
    if (inFlight?.commit === head && inFlight.phase === 'reverting' && inFlight.revert !== undefined) {
      return this.#revert(head, repo, inFlight.revert.service, inFlight.revert.evidence);
    }
    return this.#rollOut(head, repo, reason, converged);
  }

  /**
   * A new head lifts what waited for one (halts until a new commit, retry budgets of older heads); a
   * scheduled resync grants one attempt on each spent budget.
   */
  #forHead(journal: Journal, head: string, reason: PassReason): Journal {
    const halted = { ...journal.halted };
    const retries = { ...journal.retries };
    for (const [scope, halt] of Object.entries(journal.halted)) {
      if (halt.until === 'new-commit' && halt.commit !== head) {
        delete halted[scope];
        this.#log.info({ service: scope === '*' ? undefined : scope, code: halt.code, commit: head }, 'new commit clears halt');
      }
    }
    for (const [scope, budget] of Object.entries(journal.retries)) {
      if (budget.commit !== head) delete retries[scope];
      else if (reason === 'resync' && budget.attempts >= budget.allowed) retries[scope] = grantAttempt(budget);
    }
    return { ...journal, halted, retries };
  }

  /**
   * The head loaded and validated, once per head: the pass and what runs after it (the file_sd target files)
   * share one load. Nothing is recorded or halted here; `#load` does that for the pass.
   */
  loadHead(head: string): Promise<LoadResult> {
    if (this.#headLoad?.head !== head) {
      const result = loadRepo(this.#options.source.readerAt(head), { cache: this.#loadCache });
      this.#headLoad = { head, result };
      // A load that threw (a tend bug) is tried again by the next caller, not remembered.
      result.catch(() => {
        if (this.#headLoad?.result === result) this.#headLoad = undefined;
      });
    }
    return this.#headLoad.result;
  }

  /** Loads and validates the head (once per head); an invalid commit halts everything, touching no host. */
  async #load(head: string): Promise<RepoSpec | undefined> {
    if (this.#loaded?.head === head) return this.#loaded.repo;
    const loaded = await this.loadHead(head);
    if (!loaded.ok) {
      const first = loaded.issues[0];
      await this.#halt('*', {
        code: 'E_INVALID_COMMIT',
        errorClass: 'invalid',
        message: `commit ${shortCommit(head)} is invalid (${loaded.issues.length} problem${loaded.issues.length === 1 ? '' : 's'})${first === undefined ? '' : `: ${first.file}:${first.line}:${first.col}: ${first.message}`}`,
        hint: 'Nothing was changed on any host; the hosts keep running the last good commit. Fix the spec in a new commit (`tend validate` shows every problem).',
        commit: head,
        until: 'new-commit',
        issues: loaded.issues,
      });
      for (const issue of loaded.issues) this.#log.error({ commit: head, code: issue.code, file: issue.file, line: issue.line, col: issue.col }, issue.message);
      return undefined;
    }
    this.#options.fleet.setConcurrency(loaded.repo.settings.concurrency);
    const names = loaded.repo.services.map((one) => one.name);
    this.#options.metrics?.specLoaded({ services: names, hosts: loaded.repo.inventory.hosts.map((one) => one.name) });
    await this.#record(conditionsForServices(this.#journal, names, head, this.#now()));
    this.#loaded = { head, repo: loaded.repo };
    return loaded.repo;
  }

  /** `converged`: the head is the last applied commit with nothing in flight, so any change found is drift. */
  async #rollOut(head: string, repo: RepoSpec, reason: PassReason, converged: boolean): Promise<PassOutcome> {
    const now = this.#now();
    await this.#record(carryForward(this.#journal, head, repo.services.map((one) => one.name), await this.#changedSince(head), now));
    const heldBefore = holdAllBeforeObserve(repo.services, this.#journal, head, reason, now);
    if (repo.services.length > 0 && heldBefore.size === repo.services.length) {
      // Nobody may act: observe no host, and wake when the first backoff ends.
      return this.#waitOutcome(head, heldBefore);
    }

    const resumed = this.#journal.inFlight?.commit === head ? this.#journal.inFlight : undefined;
    // Sets, built once: a resumed rollout asks about every placement, and lists would make that hosts².
    const planned = new Map(Object.entries(resumed?.planned ?? {}).map(([service, hosts]) => [service, new Set(hosts)]));
    const verified = new Map(Object.entries(resumed?.verified ?? {}).map(([service, hosts]) => [service, new Set(hosts)]));
    const resume = resumed === undefined ? undefined : (service: string, host: string): ResumePoint | undefined => {
      if (planned.get(service)?.has(host) !== true || verified.get(service)?.has(host) === true) return undefined;
      const run = resumed.runs[service]?.[host];
      return run === undefined ? { kind: 'restart' } : { kind: 'judge', run };
    };
    let pass: PreparedPass;
    try {
      // Only the services that may act are rendered, observed and planned: a commit that touches one service
      // looks at that service's hosts. A pass that leaves some out prunes nothing.
      const only = heldBefore.size === 0 ? undefined : new Set(repo.services.filter((one) => !heldBefore.has(one.name)).map((one) => one.name));
      pass = await preparePass(repo, this.#options.secrets, this.#options.fleet, resume, only);
    } catch (error) {
      return this.#passFailedBeforeActing(head, asTendError(error));
    }
    if (!pass.planResult.ok) {
      await this.#halt('*', passHalt(pass.planResult.error, head));
      return { kind: 'idle' };
    }
    for (const observed of pass.observed.values()) this.#options.metrics?.hostObserved(observed.host, observed.reachable);
    const headCommit = await this.#options.source.commit(head);
    const isRollback = isTendRevert(headCommit.message);
    const specs = new Map(repo.services.map((spec) => [spec.name, spec]));
    const gated = gatePlan(pass.planResult.plan, specs, heldBefore, this.#journal, head, now, isRollback);
    const plan = gated.plan;

    const conditions = new Map<string, ConditionFields>();
    for (const service of plan.services) {
      if (service.batches.length === 0) continue;
      const hosts = service.batches.flat().map((step) => step.host);
      if (converged) {
        // No new commit, yet a host differs from git: someone changed it by hand. Put it back, and say so.
        for (const host of hosts) this.#options.metrics?.driftObserved(service.service, host, true);
        this.#log.warn({ service: service.service, commit: head, hosts, reasons: service.batches.flat().flatMap((step) => step.reasons.map((one) => one.detail)) }, 'drift detected; restoring the committed state');
        conditions.set(service.service, { state: 'Drifted', code: 'W_DRIFT', message: `${hosts.join(', ')} differ from ${shortCommit(head)} with no new commit; restoring`, desiredCommit: head });
      } else if (!heldForBudget(this.#journal, service.service)) {
        conditions.set(service.service, { state: 'Progressing', message: `rolling out ${shortCommit(head)}`, desiredCommit: head });
      }
    }
    for (const [service, hold] of gated.held) {
      const fields = conditionOfHold(hold, head);
      if (fields !== undefined) conditions.set(service, fields);
    }

    const acting = plan.services.filter((one) => one.batches.length > 0 || one.unreachable.length > 0 || one.blocked.length > 0);
    const rolloutId = resumed?.rolloutId ?? randomUUID();
    if (acting.length > 0 || plan.prunes.length > 0) {
      const planned: Record<string, string[]> = {};
      for (const service of acting) planned[service.service] = [...new Set([...(resumed?.planned[service.service] ?? []), ...service.batches.flat().map((step) => step.host)])];
      // Crash point `stage`..`healthy`: the hosts this rollout set out to change are known before any is touched.
      await this.#record(
        withConditions(
          {
            ...this.#journal,
            lastAttempted: head,
            inFlight: { rolloutId, commit: head, startedAt: resumed?.startedAt ?? now, phase: 'rolling', planned, verified: resumed?.verified ?? {}, revert: undefined, runs: resumed?.runs ?? {} },
          },
          conditions,
          now,
        ),
      );
      this.#log.info({ commit: head, rolloutId, reason, services: acting.map((one) => one.service), rollback: isRollback }, 'rollout started');
    } else {
      await this.#record(withConditions(this.#journal, conditions, now));
    }

    const reader = this.#options.source.readerAt(head);
    let progressWrites: Promise<void>;
    let result: ApplyResult;
    try {
      result = acting.length === 0 && plan.prunes.length === 0
        ? { services: plan.services.map((one) => ({ service: one.service, result: 'unchanged' as const, code: undefined, detail: 'nothing to change', outcome: undefined, steps: [] })), pruned: [], ok: true }
        : await this.#options.fleet.apply(
            { repo, plan, observed: pass.observed, rendered: pass.rendered },
            {
              now: this.#now,
              sleep: this.#sleep,
              readArtifact: async (service) => {
                if (service.run.kind !== 'artifact') throw new Error(`${service.name} has no artifact`);
                return reader.readFile(service.run.path);
              },
              onProgress: (event) => this.#onProgress(event, head, rolloutId, isRollback),
              keepReleases: repo.settings.keepReleases,
              superseded: () => this.#stopping || this.#options.mayAct?.() === false || (this.#latestHead !== undefined && this.#latestHead !== head),
              onProbe: (service, _host, probe) => this.#options.metrics?.probeFinished(service, probe.latencyMs),
              // Only a failure tend will revert stops the others: a service never healthy before has nothing to go
              // back to (E_ROLLBACK_NO_BASELINE), and stopping the rest of a first deploy would leave it half done.
              changeFailureStopsOthers: (service) => service.deploy.autoRollback && this.#journal.services[service.name] !== undefined,
              actor: { commit: head, identity: this.#options.identity, rollback: isRollback },
            },
          );
    } finally {
      progressWrites = this.#takeJournalWrites();
    }
    await progressWrites;

    const reverted = isRollback ? revertedCommitOf(headCommit.message) : undefined;
    const verdict = judgeApply({
      journal: this.#journal,
      head,
      result,
      services: repo.services.map((one) => one.name),
      held: gated.held,
      reverted,
      // Deposed (the gate closed) is a stop like shutdown's: the next leader resumes, not this instance.
      stopping: this.#stopping || this.#options.mayAct?.() === false,
      now: this.#now(),
      retry: this.#options.retry,
      random: this.#random,
    });
    const endedAt = this.#now();
    const finished = rolloutRecordsOf({ rolloutId, commit: headCommit, startedAt: resumed?.startedAt ?? now, endedAt, reverts: reverted, finished: verdict.finished, results: result.services });
    const facts = { head, services: repo.services.map((one) => one.name), plan: pass.planResult.plan, observed: pass.observed, steps: result.services.flatMap((one) => one.steps), now: endedAt };
    await this.#record({ ...verdict.journal, rollouts: appendRollouts(verdict.journal.rollouts, finished), hosts: hostsAfterPass(verdict.journal.hosts, facts) });
    for (const one of verdict.finished) this.#options.metrics?.rolloutFinished(one.service, one.result);
    for (const one of result.services) {
      if (one.result === 'unchanged') continue;
      this.#options.metrics?.rolloutAttemptFinished(one.service, one.result);
      if (one.result === 'succeeded') this.#options.metrics?.serviceHealthyAt(one.service, headCommit.committedAt, this.#now());
      if (converged && one.result === 'succeeded') for (const host of plan.services.find((p) => p.service === one.service)?.batches.flat() ?? []) this.#options.metrics?.driftObserved(one.service, host.host, false);
    }
    for (const service of verdict.exhausted) {
      const halt = this.#journal.halted[service];
      this.#log.error({ service, commit: head, code: halt?.code, errorClass: 'transient', detail: halt?.message, hint: halt?.hint }, 'transient failure persisted; stalled until a new commit, the next resync or tend retry');
    }
    for (const one of result.services) {
      if (one.result === 'failed-conflict' || one.result === 'failed-invalid' || one.result === 'failed-internal') {
        const halt = this.#journal.halted[one.service];
        this.#log.error({ service: one.service, commit: head, code: halt?.code, errorClass: halt?.errorClass, hint: halt?.hint }, halt?.message ?? one.detail);
      }
    }
    if (verdict.fullyApplied) this.#options.metrics?.commitApplied(head, this.#now());

    switch (verdict.next.kind) {
      case 'again':
        this.#log.info({ commit: head, rolloutId, newer: this.#latestHead }, 'rollout superseded by a newer commit');
        return { kind: 'again' };
      case 'revert': {
        const evidence = { ...verdict.next.evidence, rolloutId };
        this.#log.error({ service: evidence.service, commit: head, rolloutId, code: evidence.errorCode, hosts: evidence.failedHosts }, 'rollout failed because of the change');
        return this.#revert(head, repo, evidence.service, evidence);
      }
      case 'retry':
        for (const one of result.services) {
          const budget = this.#journal.retries[one.service];
          if (one.result !== 'failed-transient' || budget?.nextAt === undefined) continue;
          this.#log.warn({ service: one.service, code: budget.code, attempt: budget.attempts, allowed: budget.allowed, nextAt: new Date(budget.nextAt).toISOString() }, 'transient failure; retrying');
        }
        return { kind: 'retry', delayMs: Math.max(0, verdict.next.at - this.#now()) };
      case 'idle':
        if (result.ok && acting.length > 0) this.#log.info({ commit: head, rolloutId }, 'rollout converged');
        // judgeApply already wrote the holds' conditions and whether the head is applied.
        return this.#nextWake(head, gated.held);
    }
  }

  /**
   * The paths changed from each service's last healthy commit to the head, for `carryForward`; undefined
   * for a commit that is not an ancestor of the head (or unreadable: then the service is observed).
   */
  async #changedSince(head: string): Promise<(commit: string) => readonly string[] | undefined> {
    const source = this.#options.source;
    const changed = new Map<string, readonly string[] | undefined>();
    for (const record of Object.values(this.#journal.services)) {
      const from = record.stableCommit;
      if (from === head || changed.has(from)) continue;
      try {
        if (!(await source.isAncestor(from, head))) {
          changed.set(from, undefined);
          continue;
        }
        const paths = new Set<string>();
        for (const commit of await source.commitsBetween(from, head)) for (const path of await source.changedPaths(commit.sha)) paths.add(path);
        changed.set(from, [...paths]);
      } catch {
        changed.set(from, undefined);
      }
    }
    return (commit) => changed.get(commit);
  }

  /** Nothing may act: record the holds' conditions (and the head as applied when every service is healthy there), then wait. */
  async #waitOutcome(head: string, held: ReadonlyMap<string, Hold>): Promise<PassOutcome> {
    const now = this.#now();
    const conditions = new Map<string, ConditionFields>();
    for (const [service, hold] of held) {
      const fields = conditionOfHold(hold, head);
      if (fields !== undefined) conditions.set(service, fields);
    }
    const journal = withConditions(this.#journal, conditions, now);
    // Every service healthy at the head without acting (nothing it runs changed): the head is applied.
    const applied = appliedAt(journal, head, Object.keys(journal.conditions));
    await this.#record(applied && journal.lastApplied !== head ? { ...journal, lastApplied: head, inFlight: undefined } : journal);
    if (applied && journal.lastApplied !== head) this.#options.metrics?.commitApplied(head, now);
    return this.#nextWake(head, held);
  }

  /** What the loop waits for when nothing may act now: the next backoff's end, or a deploy window's opening. */
  #nextWake(head: string, held: ReadonlyMap<string, Hold>): PassOutcome {
    const now = this.#now();
    const due = nextAttemptAt(this.#journal, head);
    if (due !== undefined) return { kind: 'retry', delayMs: Math.max(0, due - now) };
    const windows = [...held.values()].flatMap((hold) => (hold.kind === 'window' ? [nextWindowOpening(hold.window, now)] : []));
    return windows.length === 0 ? { kind: 'idle' } : { kind: 'idle', wakeAt: Math.min(...windows) };
  }

  /** A pass that failed before any service acted: transient ones spend the repo-wide budget, others halt. */
  async #passFailedBeforeActing(head: string, error: TendError): Promise<PassOutcome> {
    const now = this.#now();
    if (error.errorClass !== 'transient') {
      await this.#halt('*', passHalt(error, head));
      return { kind: 'idle' };
    }
    const failure = { code: error.code, detail: error.message };
    const verdict = spendAttempt(this.#journal.retries['*'], head, failure, now, this.#options.retry, this.#random);
    const retries = { ...this.#journal.retries, '*': verdict.budget };
    if (verdict.kind === 'retry') {
      this.#log.warn({ code: error.code, attempt: verdict.budget.attempts, nextAt: new Date(verdict.nextAt).toISOString() }, 'transient failure; retrying');
      await this.#record({ ...this.#journal, retries });
      return { kind: 'retry', delayMs: verdict.nextAt - now };
    }
    await this.#record({ ...this.#journal, retries });
    await this.#halt('*', exhaustedHalt('*', verdict.budget.attempts, failure, head));
    return { kind: 'idle' };
  }

  /** Fetch failures back off in memory: every poll fetches anyway, so there is nothing to persist. */
  #fetchFailed(): PassOutcome {
    this.#fetchAttempts += 1;
    const decision = nextRetry(this.#fetchAttempts, this.#options.retry, this.#random);
    if (decision.kind === 'retry') return { kind: 'retry', delayMs: decision.delayMs };
    this.#log.error({ code: this.#source.error?.code, attempts: decision.attempts }, 'transient failure persisted; fetching again at the next poll or webhook');
    this.#fetchAttempts = 0;
    return { kind: 'idle' };
  }

  #onProgress(event: StepProgress, head: string, rolloutId: string, isRollback: boolean): void {
    const fields = { service: event.service, host: event.host, commit: head, rolloutId, phase: event.phase };
    if (event.phase === 'failed' || event.phase === 'unreachable') this.#log.warn(fields, event.detail);
    else this.#log.info(fields, event.detail);
    const inFlight = this.#journal.inFlight;
    let recorded = false;
    if (inFlight?.commit === head && event.phase === 'healthy') {
      recorded = true;
      // A resumed rollout need not wait on this host again.
      this.#queueJournal((journal) => {
        const current = journal.inFlight;
        if (current?.commit !== head) return journal;
        return { ...journal, inFlight: { ...current, verified: { ...current.verified, [event.service]: [...(current.verified[event.service] ?? []), event.host] } } };
      });
    }
    if (inFlight?.commit === head && event.run !== undefined && inFlight.runs[event.service]?.[event.host]?.invocationId !== event.run.invocationId) {
      // The new run is identified: a restarted tend judges this run from this start instead of restarting it.
      const run = event.run;
      recorded = true;
      this.#queueJournal((journal) => {
        const current = journal.inFlight;
        if (current?.commit !== head) return journal;
        return { ...journal, inFlight: { ...current, runs: { ...current.runs, [event.service]: { ...current.runs[event.service], [event.host]: run } } } };
      });
    }
    const point: CrashPoint | undefined = isRollback ? (event.phase === 'probe' ? 'rollback-probe' : undefined) : event.phase === 'superseded' || event.phase === 'failed' || event.phase === 'unreachable' ? undefined : event.phase;
    if (point !== undefined) this.#options.crash(point, recorded ? this.#journalWrites : undefined);
  }

  #queueJournal(change: (journal: Journal) => Journal): void {
    const write = this.#journalWrites.then(() => this.#record(change(this.#journal)));
    // Awaited once the rollout returns (#takeJournalWrites). A write failing before then (etcd unreachable
    // under `ha`) must not be an unhandled rejection, which would end the process mid-rollout.
    write.catch(() => undefined);
    this.#journalWrites = write;
  }

  /** The progress writes queued during a rollout, handed to the pass that ran it: a failed one fails that pass, not a later one. */
  #takeJournalWrites(): Promise<void> {
    const writes = this.#journalWrites;
    this.#journalWrites = Promise.resolve();
    return writes;
  }

  /** Revert what broke `service` at `head`, push it, and let the next pass roll the hosts back. */
  async #revert(head: string, repo: RepoSpec, service: string, evidence: RevertEvidence): Promise<PassOutcome> {
    const source = this.#options.source;
    const current = await this.refreshHead().catch(() => undefined);
    const journal = this.#journal;
    const spec: ServiceSpec | undefined = repo.services.find((one) => one.name === service);
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
      await this.#record({ ...this.#journal, inFlight: undefined });
      await this.#halt(service, {
        code: decision.code,
        errorClass: 'conflict',
        message: decision.message,
        hint: decision.hint,
        commit: head,
        until: decision.code === 'E_ROLLBACK_FAILED' ? 'operator' : 'new-commit',
        issues: [],
      });
      return { kind: 'idle' };
    }

    const target = decision.commit;
    const inFlight = this.#journal.inFlight;
    // Crash point `after-known-bad`: the bad commit and the evidence are on disk before any commit is written.
    await this.#record({
      ...this.#journal,
      knownBad: { ...this.#journal.knownBad, [target.sha]: { service, code: evidence.errorCode, at: this.#now(), revertedBy: undefined, rolloutId: evidence.rolloutId } },
      inFlight: {
        rolloutId: evidence.rolloutId,
        commit: head,
        startedAt: inFlight?.startedAt ?? this.#now(),
        phase: 'reverting',
        planned: inFlight?.planned ?? {},
        verified: inFlight?.verified ?? {},
        revert: { service, evidence },
        runs: inFlight?.runs ?? {},
      },
    });
    this.#options.crash('after-known-bad');

    let onto: string;
    try {
      const info = await source.commit(target.sha);
      onto = await this.#options.createRevert({ onto: head, revert: target.sha, message: revertMessage({ sha: info.sha, subject: info.subject, parents: info.parents }, evidence) });
    } catch (error) {
      const tendError = asTendError(error);
      this.#options.metrics?.rollbackFinished(service, tendError.code === 'E_REVERT_CONFLICT' ? 'conflict' : 'failed');
      await this.#record({ ...this.#journal, inFlight: undefined });
      await this.#halt(service, { ...passHalt(tendError, head) });
      return { kind: 'idle' };
    }
    this.#options.crash('after-revert-commit');

    if (this.#options.mayAct?.() === false) {
      // Deposed before the push: the next leader finds the bad commit recorded and pushes the revert once.
      this.#log.warn({ service, commit: head, reverted: target.sha }, 'not pushing the revert: this instance no longer leads');
      return { kind: 'idle' };
    }
    const pushed = await this.#push(onto, head, service);
    if (pushed !== 'pushed') return pushed;
    this.#options.crash('after-push');
    this.#options.metrics?.rollbackFinished(service, 'pushed');
    const bad = this.#journal.knownBad[target.sha];
    const knownBad = bad === undefined ? this.#journal.knownBad : { ...this.#journal.knownBad, [target.sha]: { ...bad, revertedBy: onto } };
    const rollingBack = new Map<string, ConditionFields>([
      [service, { state: 'Degraded', code: evidence.errorCode, errorClass: 'change', message: `${shortCommit(target.sha)} reverted by ${shortCommit(onto)}; rolling back`, desiredCommit: onto, revertCommit: onto, failedHosts: evidence.failedHosts }],
    ]);
    const rollouts = withRevertCommit(this.#journal.rollouts, evidence.rolloutId, service, onto);
    await this.#record(withConditions({ ...this.#journal, knownBad, inFlight: undefined, rollouts }, rollingBack, this.#now()));
    this.#log.warn({ service, commit: head, revert: onto, reverted: target.sha, rolloutId: evidence.rolloutId, code: evidence.errorCode }, 'pushed revert commit');
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
        await this.#halt(service, {
          code: tendError.code,
          errorClass: tendError.errorClass === 'transient' ? 'transient' : 'conflict',
          message: `pushing the revert failed: ${tendError.message}`,
          hint: tendError.hint,
          commit: head,
          until: 'new-commit',
          issues: [],
        });
        return { kind: 'idle' };
      }
    }
  }

  async #halt(scope: string, halt: Omit<Halt, 'since'>): Promise<void> {
    const existing = this.#journal.halted[scope];
    if (existing === undefined || existing.code !== halt.code || existing.commit !== halt.commit) {
      this.#log.error({ service: scope === '*' ? undefined : scope, commit: halt.commit, code: halt.code, errorClass: halt.errorClass, hint: halt.hint }, halt.message);
    }
    const stored = keepSince(existing, halt, this.#now());
    const journal = { ...this.#journal, halted: { ...this.#journal.halted, [scope]: stored } };
    if (scope === '*') return this.#record(journal);
    const stalled = new Map<string, ConditionFields>([[scope, { state: 'Stalled', code: halt.code, errorClass: halt.errorClass, message: halt.message, hint: halt.hint, desiredCommit: halt.commit }]]);
    return this.#record(withConditions(journal, stalled, this.#now()));
  }

  async #record(journal: Journal): Promise<void> {
    if (journal === this.#journal) return;
    this.#journal = journal;
    await this.#write(this.#options.journalPath, journal);
    this.#publish();
  }

  #view(): DaemonStatus {
    return statusOf(this.#journal, { startedAt: this.#startedAt, source: this.#source, passError: this.#passError, settled: this.#settled, now: this.#now() });
  }

  #publish(): void {
    const status = this.#view();
    this.#options.metrics?.statusPublished(status);
    this.#options.onStatus?.(status);
  }
}

/** A spent budget at `head` with an attempt granted (by `tend retry` or a resync). */
function grantedAt(journal: Journal, scope: string, head: string): boolean {
  const budget = journal.retries[scope];
  return budget?.commit === head && budget.attempts < budget.allowed;
}

/** A service retrying after a transient failure keeps showing Degraded (with its next attempt) while it tries. */
function heldForBudget(journal: Journal, service: string): boolean {
  return journal.retries[service] !== undefined;
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
