import { InternalError } from '../errors/index.js';
import type { ErrorClass } from '../errors/index.js';
import type { ServicePlan } from '../plan/model.js';
import type { DeploySpec } from '../spec/model.js';

/** Where one host of a rollout stands. */
export type HostProgress =
  | { readonly state: 'not-started' }
  | { readonly state: 'running'; readonly startedAt: number }
  | { readonly state: 'healthy'; readonly at: number }
  | { readonly state: 'failed'; readonly failure: HostFailure };

export interface HostFailure {
  readonly host: string;
  readonly at: number;
  readonly errorClass: ErrorClass;
  readonly code: string;
  readonly detail: string;
}

export type RolloutEvent =
  | { readonly type: 'host-started'; readonly host: string; readonly at: number }
  | { readonly type: 'host-healthy'; readonly host: string; readonly at: number }
  | {
      readonly type: 'host-failed';
      readonly host: string;
      readonly at: number;
      readonly errorClass: ErrorClass;
      readonly code: string;
      readonly detail: string;
    }
  /** Lost mid-rollout (SSH gone, outcome unknown): counts against the budget, never blames the version. */
  | { readonly type: 'host-unreachable'; readonly host: string; readonly at: number; readonly code: string; readonly detail: string };

export interface RolloutState {
  readonly service: string;
  readonly batches: readonly (readonly string[])[];
  /** Whether the first batch is a canary (the spec's canary > 0). */
  readonly firstBatchIsCanary: boolean;
  readonly maxFailedHosts: number;
  readonly progressDeadline: number;
  readonly hosts: ReadonlyMap<string, HostProgress>;
  /** Hosts the plan already left out (unreachable, blocked): failures from the start. */
  readonly skipped: readonly HostFailure[];
  readonly startedAt: number;
  /** When the rollout started or a host last became healthy: what progressDeadline runs from. */
  readonly lastProgressAt: number;
}

export type RolloutStopCode =
  /** More hosts failed than deploy.max_failed_hosts allows. */
  | 'E_FAILURE_BUDGET'
  /** A canary failed because of the change: no further host gets it, whatever the budget. */
  | 'E_CANARY_FAILED'
  /** No host became healthy for progressDeadline. */
  | 'E_PROGRESS_DEADLINE';

export type RolloutResult =
  | 'succeeded'
  /** A change-caused failure: the commit is a revert candidate. */
  | 'failed-change'
  /** Only infrastructure failed (unreachable hosts, timeouts): retry with backoff, never revert. */
  | 'failed-transient'
  /** The commit cannot be applied as written: stall until a new commit. */
  | 'failed-invalid'
  /** A person must act (a unit tend does not own, a refused host key): no retry, no revert. */
  | 'failed-conflict'
  /** tend's own bug. */
  | 'failed-internal';

export interface HostEvidence {
  readonly host: string;
  readonly state: HostProgress['state'];
  readonly errorClass?: ErrorClass;
  readonly code?: string;
  readonly detail?: string;
  readonly at?: number;
}

export interface RolloutOutcome {
  readonly result: RolloutResult;
  /** The failure the result is named after: the first of its class. Undefined on success. */
  readonly cause: HostFailure | undefined;
  /** Every host of the service, in plan order, skipped hosts last. */
  readonly evidence: readonly HostEvidence[];
}

export type RolloutDecision =
  | { readonly kind: 'start-batch'; readonly index: number; readonly hosts: readonly string[] }
  /** The current batch is unfinished; decide again by `deadlineAt` at the latest. */
  | { readonly kind: 'wait'; readonly inFlight: readonly string[]; readonly deadlineAt: number }
  | {
      readonly kind: 'stop';
      readonly code: RolloutStopCode;
      readonly errorClass: ErrorClass;
      readonly detail: string;
      /** Hosts still running their health check: start nothing new, but let them finish and record them. */
      readonly inFlight: readonly string[];
      /** The earliest change-caused failure, the evidence for a revert. */
      readonly firstChangeFailure: HostFailure | undefined;
      readonly outcome: RolloutOutcome;
    }
  | { readonly kind: 'done'; readonly outcome: RolloutOutcome };

export type RolloutBudget = Pick<DeploySpec, 'canary' | 'maxFailedHosts'> & { readonly progressDeadline: number };

/** The state before any host is touched; the plan's unreachable and blocked hosts already count as failed. */
export function startRollout(plan: ServicePlan, budget: RolloutBudget, at: number): RolloutState {
  const hosts = new Map<string, HostProgress>();
  const batches = plan.batches.map((batch) => batch.map((step) => step.host));
  for (const host of batches.flat()) {
    if (hosts.has(host)) throw new InternalError(`host ${host} appears twice in the plan of ${plan.service}`);
    hosts.set(host, { state: 'not-started' });
  }
  const skipped: HostFailure[] = [
    ...[...plan.unreachable, ...plan.blocked].map((host) => ({ host: host.host, at, errorClass: host.errorClass, code: host.code, detail: host.message })),
  ];
  return {
    service: plan.service,
    batches,
    firstBatchIsCanary: budget.canary > 0,
    maxFailedHosts: budget.maxFailedHosts,
    progressDeadline: budget.progressDeadline,
    hosts,
    skipped,
    startedAt: at,
    lastProgressAt: at,
  };
}

/** Folds one event in. The first verdict on a host is final: a late event cannot undo a failure or a success. */
export function recordRolloutEvent(state: RolloutState, event: RolloutEvent): RolloutState {
  const current = state.hosts.get(event.host);
  if (current === undefined) throw new InternalError(`event for host ${event.host}, which is not in the rollout of ${state.service}`);
  if (current.state === 'healthy' || current.state === 'failed') return state;

  let next: HostProgress;
  let lastProgressAt = state.lastProgressAt;
  switch (event.type) {
    case 'host-started':
      if (current.state === 'running') return state;
      next = { state: 'running', startedAt: event.at };
      break;
    case 'host-healthy':
      next = { state: 'healthy', at: event.at };
      lastProgressAt = Math.max(lastProgressAt, event.at);
      break;
    case 'host-failed':
      next = { state: 'failed', failure: { host: event.host, at: event.at, errorClass: event.errorClass, code: event.code, detail: event.detail } };
      break;
    case 'host-unreachable':
      next = { state: 'failed', failure: { host: event.host, at: event.at, errorClass: 'transient', code: event.code, detail: event.detail } };
      break;
  }
  const hosts = new Map(state.hosts);
  hosts.set(event.host, next);
  return { ...state, hosts, lastProgressAt };
}

/**
 * What to do next. Stops as soon as the budget is exceeded, a canary fails because of the change, or no
 * host became healthy for progressDeadline; otherwise starts the next batch only once every host of the
 * current one is healthy or failed.
 */
export function decideRollout(state: RolloutState, now: number): RolloutDecision {
  const failures = allFailures(state);
  const inFlight = [...state.hosts].filter(([, progress]) => progress.state === 'running').map(([host]) => host);
  const firstChangeFailure = failures.find((failure) => failure.errorClass === 'change');
  const stop = (code: RolloutStopCode, errorClass: ErrorClass, detail: string): RolloutDecision => ({
    kind: 'stop',
    code,
    errorClass,
    detail,
    inFlight,
    firstChangeFailure,
    outcome: classifyOutcome(state, errorClass),
  });

  const canary = state.firstBatchIsCanary ? (state.batches[0] ?? []) : [];
  const canaryFailure = failures.find((failure) => failure.errorClass === 'change' && canary.includes(failure.host));
  if (canaryFailure !== undefined) {
    return stop('E_CANARY_FAILED', 'change', `canary ${canaryFailure.host} failed: ${canaryFailure.code} ${canaryFailure.detail}`);
  }

  if (failures.length > state.maxFailedHosts) {
    const cause = decidingFailure(failures);
    return stop(
      'E_FAILURE_BUDGET',
      cause?.errorClass ?? 'internal',
      `${failures.length} hosts failed, more than max_failed_hosts ${state.maxFailedHosts}; first: ${cause === undefined ? 'none' : `${cause.host} ${cause.code}`}`,
    );
  }

  const current = currentBatchIndex(state);
  const batch = state.batches[current];
  const unfinished = batch?.some((host) => !isFinished(state.hosts.get(host))) ?? false;
  if (current >= 0 && unfinished) {
    const deadlineAt = state.lastProgressAt + state.progressDeadline;
    if (now >= deadlineAt) {
      // healthyDeadline < progressDeadline (validated), so a bad version has failed a host by now; with no
      // such failure the stall is in reaching or judging hosts, and a revert needs evidence against the version.
      return stop(
        'E_PROGRESS_DEADLINE',
        firstChangeFailure === undefined ? 'transient' : 'change',
        `no host of ${state.service} became healthy within ${state.progressDeadline} ms`,
      );
    }
    return { kind: 'wait', inFlight, deadlineAt };
  }

  const nextIndex = current + 1;
  const nextBatch = state.batches[nextIndex];
  if (nextBatch !== undefined) return { kind: 'start-batch', index: nextIndex, hosts: nextBatch };
  return { kind: 'done', outcome: classifyOutcome(state, undefined) };
}

/**
 * The result the rollback logic consumes: `succeeded` when not stopped, else named after the class the
 * rollout stopped with, with the first failure of that class as its cause. A budget stop takes its class
 * from the worst failure: change (revert candidate) over conflict and internal (a person) over invalid (a
 * new commit) over transient (retry), so an unreachable host never makes a version look bad and never
 * hides one that is.
 */
export function classifyOutcome(state: RolloutState, stoppedAs: ErrorClass | undefined): RolloutOutcome {
  const evidence = [...[...state.hosts].map(([host, progress]) => evidenceOf(host, progress)), ...state.skipped.map((failure) => failedEvidence(failure))];
  if (stoppedAs === undefined) return { result: 'succeeded', cause: undefined, evidence };
  const cause = allFailures(state).find((failure) => failure.errorClass === stoppedAs);
  return { result: RESULT_OF_CLASS[stoppedAs], cause, evidence };
}

const RESULT_OF_CLASS: Readonly<Record<ErrorClass, RolloutResult>> = {
  change: 'failed-change',
  conflict: 'failed-conflict',
  internal: 'failed-internal',
  invalid: 'failed-invalid',
  transient: 'failed-transient',
};

const CLASS_PRIORITY: readonly ErrorClass[] = ['change', 'conflict', 'internal', 'invalid', 'transient'];

function decidingFailure(failures: readonly HostFailure[]): HostFailure | undefined {
  for (const errorClass of CLASS_PRIORITY) {
    const first = failures.find((failure) => failure.errorClass === errorClass);
    if (first !== undefined) return first;
  }
  return undefined;
}

/** Skipped hosts first (they failed at the start), then failures in the order they happened. */
function allFailures(state: RolloutState): HostFailure[] {
  const during = [...state.hosts.values()]
    .flatMap((progress) => (progress.state === 'failed' ? [progress.failure] : []))
    .sort((a, b) => a.at - b.at);
  return [...state.skipped, ...during];
}

/** The last batch with a host that has moved past not-started; -1 before the first. */
function currentBatchIndex(state: RolloutState): number {
  for (let index = state.batches.length - 1; index >= 0; index -= 1) {
    if (state.batches[index]?.some((host) => state.hosts.get(host)?.state !== 'not-started')) return index;
  }
  return -1;
}

function isFinished(progress: HostProgress | undefined): boolean {
  return progress?.state === 'healthy' || progress?.state === 'failed';
}

function evidenceOf(host: string, progress: HostProgress): HostEvidence {
  switch (progress.state) {
    case 'not-started':
      return { host, state: 'not-started' };
    case 'running':
      return { host, state: 'running', at: progress.startedAt };
    case 'healthy':
      return { host, state: 'healthy', at: progress.at };
    case 'failed':
      return failedEvidence(progress.failure);
  }
}

function failedEvidence(failure: HostFailure): HostEvidence {
  return { host: failure.host, state: 'failed', errorClass: failure.errorClass, code: failure.code, detail: failure.detail, at: failure.at };
}
