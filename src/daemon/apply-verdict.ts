import { hintOf, isErrorCode, type ErrorClass, type TendError } from '../errors/index.js';
import { describeProbe, type RevertEvidence } from '../rollback/index.js';
import type { ApplyResult, RetryPolicy, ServiceRolloutResult } from '../rollout/index.js';
import { shortCommit } from '../source/commit-id.js';
import type { Halt, Journal } from '../state/index.js';
import { withConditions, type ConditionFields } from './conditions.js';
import { nextAttemptAt, spendAttempt } from './retry-budget.js';
import { conditionOfHold, type Hold } from './service-gate.js';

/** What the loop does after a pass. */
export type NextStep =
  /** Revert the head for this service's failure, then roll the hosts back. */
  | { readonly kind: 'revert'; readonly service: string; readonly evidence: RevertEvidence }
  /** Run again at once: a newer head superseded this pass. */
  | { readonly kind: 'again' }
  /** A transient failure backs off: the next attempt is due then. */
  | { readonly kind: 'retry'; readonly at: number }
  | { readonly kind: 'idle' };

export interface ApplyVerdictInput {
  readonly journal: Journal;
  readonly head: string;
  readonly result: ApplyResult;
  /** Every service of the loaded commit. */
  readonly services: readonly string[];
  /** Services that did not act in this pass, and why. */
  readonly held: ReadonlyMap<string, Hold>;
  /** When the head is a revert of tend's: the commit it reverted. */
  readonly reverted: string | undefined;
  /** tend is shutting down: a superseded rollout is not followed up. */
  readonly stopping: boolean;
  readonly now: number;
  readonly retry: RetryPolicy;
  readonly random: () => number;
}

export interface ApplyVerdict {
  readonly journal: Journal;
  readonly next: NextStep;
  /** Services whose rollout of the head reached its final result in this pass (not each attempt). */
  readonly finished: readonly { readonly service: string; readonly result: Exclude<ServiceRolloutResult['result'], 'unchanged'> }[];
  /** Services whose transient-failure budget was spent in this pass. */
  readonly exhausted: readonly string[];
  /** Every service of the commit is healthy at the head: it is the last applied commit now. */
  readonly fullyApplied: boolean;
}

/**
 * What an apply result means, decided in one place (flux's `ComputeReconcileResult`): each service's
 * condition with its reason and class, the journal's halts, budgets and healthy records, and what the loop
 * does next. Pure: the reconciler only writes what this returns and carries out `next`.
 */
export function judgeApply(input: ApplyVerdictInput): ApplyVerdict {
  const { head, now, result } = input;
  const conditions = new Map<string, ConditionFields>();
  const halted: Record<string, Halt> = { ...input.journal.halted };
  const retries = { ...input.journal.retries };
  const healthy: string[] = [];
  const finished: { service: string; result: Exclude<ServiceRolloutResult['result'], 'unchanged'> }[] = [];
  const exhausted: string[] = [];
  let changeFailure: ServiceRolloutResult | undefined;
  let superseded = false;

  for (const one of result.services) {
    const service = one.service;
    switch (one.result) {
      case 'succeeded':
      case 'unchanged': {
        healthy.push(service);
        delete retries[service];
        if (halted[service]?.code === 'E_RETRIES_EXHAUSTED') delete halted[service];
        const bad = input.reverted === undefined ? undefined : input.journal.knownBad[input.reverted];
        conditions.set(
          service,
          bad?.service === service && input.reverted !== undefined
            ? { state: 'RolledBack', code: bad.code, errorClass: 'change', message: `${shortCommit(input.reverted)} was reverted by ${shortCommit(head)}; hosts run the previous version`, desiredCommit: head, revertCommit: head }
            : { state: 'Synced', message: 'every host runs the desired commit and is healthy', desiredCommit: head },
        );
        if (one.result === 'succeeded') finished.push({ service, result: 'succeeded' });
        break;
      }
      case 'superseded':
        superseded = true;
        finished.push({ service, result: one.result });
        break;
      case 'skipped':
        conditions.set(service, { state: 'Waiting', code: 'W_DEPENDENCY', message: one.detail, desiredCommit: head });
        break;
      case 'failed-change': {
        const evidence = evidenceOf(one, '');
        conditions.set(service, {
          state: 'Degraded',
          code: evidence.errorCode,
          errorClass: 'change',
          message: `${one.detail} (${one.code ?? 'stopped'})`,
          hint: hintFor(evidence.errorCode),
          desiredCommit: head,
          failedHosts: evidence.failedHosts,
        });
        changeFailure ??= one;
        finished.push({ service, result: one.result });
        break;
      }
      case 'failed-transient': {
        const cause = one.outcome?.cause;
        const failure = { code: cause?.code ?? one.code ?? 'E_TRANSIENT', detail: cause === undefined ? one.detail : onHost(cause.host, cause.detail) };
        const verdict = spendAttempt(retries[service], head, failure, now, input.retry, input.random);
        retries[service] = verdict.budget;
        if (verdict.kind === 'retry') {
          conditions.set(service, { state: 'Degraded', code: failure.code, errorClass: 'transient', message: `${failure.detail} (attempt ${verdict.budget.attempts} of ${verdict.budget.allowed})`, hint: hintFor(failure.code), desiredCommit: head, nextAttemptAt: verdict.nextAt });
          break;
        }
        const halt = exhaustedHalt(service, verdict.budget.attempts, failure, head);
        if (halted[service]?.code !== halt.code) {
          exhausted.push(service);
          finished.push({ service, result: one.result });
        }
        halted[service] = keepSince(halted[service], halt, now);
        conditions.set(service, { state: 'Stalled', code: halt.code, errorClass: 'transient', message: halt.message, hint: halt.hint, desiredCommit: head });
        break;
      }
      case 'failed-conflict':
      case 'failed-invalid':
      case 'failed-internal': {
        const halt = { ...haltOf(one), commit: head, until: 'new-commit' as const, issues: [] };
        halted[service] = keepSince(halted[service], halt, now);
        delete retries[service];
        conditions.set(service, { state: 'Stalled', code: halt.code, errorClass: halt.errorClass, message: halt.message, hint: halt.hint, desiredCommit: head });
        finished.push({ service, result: one.result });
        break;
      }
    }
  }
  for (const [service, hold] of input.held) {
    const fields = conditionOfHold(hold, head);
    if (fields !== undefined) conditions.set(service, fields);
  }

  let journal: Journal = withConditions({ ...input.journal, halted, retries, services: stableAt(input.journal.services, healthy, head, now) }, conditions, now);
  let next: NextStep;
  // A change failure comes first: the services it stopped show as superseded, and a newer head is for the
  // revert decision to notice (it reverts only the head).
  if (changeFailure !== undefined) next = { kind: 'revert', service: changeFailure.service, evidence: evidenceOf(changeFailure, input.journal.inFlight?.rolloutId ?? '') };
  else if (superseded) next = input.stopping ? { kind: 'idle' } : { kind: 'again' };
  else {
    const due = nextAttemptAt(journal, head);
    next = due === undefined ? { kind: 'idle' } : { kind: 'retry', at: due };
  }
  const fullyApplied = next.kind !== 'again' && next.kind !== 'revert' && appliedAt(journal, head, input.services);
  // The revert flow still needs the in-flight record (its evidence is written there before anything is pushed).
  if (next.kind !== 'revert') journal = { ...journal, inFlight: undefined };
  if (fullyApplied) journal = { ...journal, lastApplied: head };
  return { journal, next, finished, exhausted, fullyApplied };
}

/** Every service healthy at `head`, none halted or paused, nothing halted repo-wide: `head` is applied. */
export function appliedAt(journal: Journal, head: string, services: readonly string[]): boolean {
  return (
    journal.halted['*'] === undefined &&
    services.every((service) => journal.services[service]?.stableCommit === head && journal.halted[service] === undefined && journal.paused[service] === undefined)
  );
}

/** A halt that stands for the same code at the same commit keeps the time it began. */
export function keepSince(existing: Halt | undefined, halt: Omit<Halt, 'since'>, now: number): Halt {
  const same = existing !== undefined && existing.code === halt.code && existing.commit === halt.commit;
  return { ...halt, since: same ? existing.since : now };
}

/** The halt of a spent budget: transient, but no more attempts until a new commit, a resync or `tend retry`. */
export function exhaustedHalt(scope: string, attempts: number, failure: { readonly code: string; readonly detail: string }, head: string): Omit<Halt, 'since'> {
  return {
    code: 'E_RETRIES_EXHAUSTED',
    errorClass: 'transient',
    message: `${scope === '*' ? '' : `${scope}: `}${failure.detail} (${failure.code}; gave up after ${attempts} attempt${attempts === 1 ? '' : 's'})`,
    hint: 'Check the hosts named in the failure. A new commit, `tend retry` or the next scheduled resync makes one more attempt.',
    commit: head,
    until: 'new-commit',
    issues: [],
  };
}

/** The halt of a whole pass that failed before any service acted (a secret missing, a refused plan). */
export function passHalt(error: TendError, head: string): Omit<Halt, 'since'> {
  return { code: error.code, errorClass: error.errorClass, message: error.message, hint: error.hint, commit: head, until: 'new-commit', issues: [] };
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

function haltOf(result: ServiceRolloutResult): Omit<Halt, 'since' | 'commit' | 'until' | 'issues'> {
  const cause = result.outcome?.cause;
  const errorClass: ErrorClass = cause?.errorClass ?? (result.result === 'failed-invalid' ? 'invalid' : result.result === 'failed-internal' ? 'internal' : 'conflict');
  const step = result.steps.find((one) => one.outcome !== 'healthy' && one.hint !== undefined);
  return {
    code: cause?.code ?? result.code ?? 'E_ROLLOUT_FAILED',
    errorClass,
    message: `${result.service}: ${cause === undefined ? result.detail : onHost(cause.host, cause.detail)}`,
    hint: step?.hint ?? hintFor(cause?.code ?? result.code ?? '') ?? 'A person must act: see the message; nothing is retried until a new commit or `tend retry`.',
  };
}

/** The evidence a revert commit carries: only hosts that ran the change and failed because of it. */
export function evidenceOf(result: ServiceRolloutResult, rolloutId: string): RevertEvidence {
  const failed = result.steps.filter((step) => step.outcome === 'failed' && step.errorClass === 'change');
  const probe = failed.find((step) => step.lastProbe !== undefined)?.lastProbe;
  return {
    service: result.service,
    failedHosts: failed.map((step) => step.host),
    errorCode: failed[0]?.code ?? result.code ?? 'E_ROLLOUT_FAILED',
    probe: probe === undefined ? undefined : describeProbe(probe),
    rolloutId,
  };
}

/** The registry's hint of a code a host or a rollout decision reported. */
function hintFor(code: string): string | undefined {
  return isErrorCode(code) ? hintOf(code) : undefined;
}

/** A host's message, named after the host once: most messages from a host already start with its name. */
function onHost(host: string, detail: string): string {
  return detail.startsWith(`${host}:`) || detail.startsWith(`${host} `) ? detail : `${host}: ${detail}`;
}
