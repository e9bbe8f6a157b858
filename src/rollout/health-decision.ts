import type { UnitProperties } from '../hosts/observed.js';
import type { ProbeTiming } from '../spec/model.js';

/** One probe attempt against the host, as the prober saw it. */
export interface ProbeResult {
  readonly ok: boolean;
  /** HTTP status, for an http probe that got an answer. */
  readonly status?: number;
  readonly latencyMs: number;
  /** Why it failed (connection refused, timeout, unexpected status); never holds a secret. */
  readonly error?: string;
  /** The start of the response body, for a person reading why a probe failed. */
  readonly bodyExcerpt?: string;
}

/** One look at the host after the restart: the unit's properties and, when the spec has a probe, its result. */
export interface HealthObservation {
  /** Milliseconds on the caller's clock. */
  readonly at: number;
  readonly unit: UnitProperties;
  /** Undefined when no probe ran this time (no probe in the spec, or not yet due). */
  readonly probe: ProbeResult | undefined;
}

/** A run of the unit, told apart from others by its InvocationID, with its restart count when first seen. */
export type JudgedRun = Pick<UnitProperties, 'invocationId' | 'nRestarts'>;

export interface HealthInput {
  /** The unit as the pass observed it before tend restarted it; undefined when the service never ran on the host. */
  readonly before: JudgedRun | undefined;
  /**
   * The new run, when it was identified before this judgement began (read right after tend's restart, or
   * seen by an interrupted rollout before tend was restarted): any other run, or a restart of it, is a
   * failure of the new version.
   */
  readonly run?: JudgedRun;
  readonly restartedAt: number;
  /** In time order. */
  readonly observations: readonly HealthObservation[];
  readonly timing: Pick<ProbeTiming, 'minHealthyTime' | 'healthyDeadline'>;
  /** Without a probe, a run that stays active/running for minHealthyTime is healthy. */
  readonly hasProbe: boolean;
  readonly now: number;
}

/** Why a host is still pending: stable, for status and logs. */
export type HealthPendingCode =
  /** The unit still shows the run from before the restart (or none). */
  | 'AWAITING_NEW_RUN'
  /** The new run exists but is not active/running yet. */
  | 'UNIT_STARTING'
  /** The new run is running; no probe result since. */
  | 'AWAITING_PROBE'
  /** The last probe failed: the healthy streak starts over at the next pass. */
  | 'PROBE_FAILING'
  /** Passing, but not yet for minHealthyTime. */
  | 'HEALTHY_STREAK';

/** Why a host's new run failed. All are change-caused: the new version is the suspect. */
export type HealthFailureCode =
  /** The new run failed or exited. */
  | 'E_UNIT_FAILED'
  /** The new run was replaced by another (a crash and an automatic restart). */
  | 'E_UNIT_RESTARTED'
  /** Not healthy within healthyDeadline of the restart. */
  | 'E_HEALTHY_DEADLINE';

interface VerdictBase {
  readonly detail: string;
  /** The last probe result seen for the new run: the evidence a revert commit and a page carry. */
  readonly lastProbe: ProbeResult | undefined;
  /** The new run, once seen: recorded so that a restarted tend judges the same run from the same start. */
  readonly run?: JudgedRun;
}

export type HealthVerdict =
  | (VerdictBase & { readonly state: 'pending'; readonly code: HealthPendingCode })
  | (VerdictBase & { readonly state: 'healthy'; readonly code: 'HEALTHY'; readonly at: number })
  | (VerdictBase & { readonly state: 'failed'; readonly code: HealthFailureCode; readonly errorClass: 'change'; readonly at: number });

/**
 * The run tend's restart started, from the unit as systemd reported it right after the restart: a new
 * InvocationID. Undefined when none shows (the unit reported nothing, or still the run from before), and
 * the judgement then waits for the first new run itself.
 */
export function runStartedByRestart(before: JudgedRun | undefined, after: JudgedRun | undefined): JudgedRun | undefined {
  if (after === undefined || after.invocationId === '' || after.invocationId === before?.invocationId) return undefined;
  return { invocationId: after.invocationId, nRestarts: after.nRestarts };
}

/**
 * Judges one host's new run by Nomad's rule: healthy once the *new* run (a new InvocationID that never
 * restarted) has passed continuously for minHealthyTime; failed when it fails, exits or restarts, or when
 * healthyDeadline after the restart passes first. `systemctl restart`'s exit code is never trusted: the
 * old run can keep answering probes while a new one crash-loops, and only the unit's identity tells them
 * apart.
 *
 * Time comes only from the inputs: observations after the deadline are ignored (the deadline came first),
 * and a streak is measured between observations, never to `now`, so a stale look cannot become healthy.
 */
export function judgeHealth(input: HealthInput): HealthVerdict {
  const deadline = input.restartedAt + input.timing.healthyDeadline;
  let newRun: JudgedRun | undefined = input.run;
  let streakStart: number | undefined;
  let lastProbe: ProbeResult | undefined;
  let pending: { code: HealthPendingCode; detail: string } = {
    code: 'AWAITING_NEW_RUN',
    detail: awaitingNewRunDetail(input.before),
  };

  const failed = (code: HealthFailureCode, at: number, detail: string): HealthVerdict => ({
    state: 'failed',
    code,
    errorClass: 'change',
    at,
    detail,
    lastProbe,
    ...(newRun === undefined ? {} : { run: newRun }),
  });

  for (const observation of input.observations) {
    if (observation.at < input.restartedAt) continue;
    if (observation.at > deadline) break;
    const unit = observation.unit;

    if (newRun === undefined) {
      if (unit.invocationId === '' || unit.invocationId === input.before?.invocationId) continue;
      // Seen for the first time, not identified at the restart: a crash before this first look shows as
      // NRestarts above its value before the restart (a restart of a running unit starts the count at 0).
      // Racy against a crash-looping old run, whose count moves on its own: hence `run` where known.
      if (input.before !== undefined && unit.nRestarts > input.before.nRestarts) {
        return failed('E_UNIT_RESTARTED', observation.at, `the new run restarted (NRestarts ${input.before.nRestarts} -> ${unit.nRestarts})`);
      }
      newRun = { invocationId: unit.invocationId, nRestarts: unit.nRestarts };
    } else if (unit.invocationId !== newRun.invocationId) {
      return failed('E_UNIT_RESTARTED', observation.at, `the new run ${newRun.invocationId} was replaced by ${unit.invocationId || 'no run'}`);
    } else if (unit.nRestarts > newRun.nRestarts) {
      return failed('E_UNIT_RESTARTED', observation.at, `the new run restarted (NRestarts ${newRun.nRestarts} -> ${unit.nRestarts})`);
    }

    if (observation.probe !== undefined) lastProbe = observation.probe;
    const state = `${unit.activeState}/${unit.subState}`;
    if (unit.activeState === 'failed') return failed('E_UNIT_FAILED', observation.at, `the new run failed (${state})`);
    if (unit.subState === 'auto-restart') return failed('E_UNIT_RESTARTED', observation.at, `the new run exited and systemd is restarting it (${state})`);
    if (unit.activeState === 'inactive' || unit.activeState === 'deactivating' || unit.subState === 'exited' || unit.subState === 'dead') {
      return failed('E_UNIT_FAILED', observation.at, `the new run exited (${state})`);
    }
    if (unit.activeState !== 'active' || unit.subState !== 'running') {
      streakStart = undefined;
      pending = { code: 'UNIT_STARTING', detail: `the new run is ${state}` };
      continue;
    }

    if (input.hasProbe && observation.probe === undefined) {
      if (streakStart === undefined) pending = { code: 'AWAITING_PROBE', detail: 'the new run is running; waiting for a probe' };
      continue;
    }
    if (input.hasProbe && observation.probe?.ok !== true) {
      streakStart = undefined;
      pending = { code: 'PROBE_FAILING', detail: `probe failed: ${describeProbe(observation.probe)}` };
      continue;
    }

    streakStart ??= observation.at;
    const passingFor = observation.at - streakStart;
    if (passingFor >= input.timing.minHealthyTime) {
      return {
        state: 'healthy',
        code: 'HEALTHY',
        at: observation.at,
        detail: `${input.hasProbe ? 'passed its probe' : 'active/running'} for ${passingFor} ms`,
        lastProbe,
        run: newRun,
      };
    }
    pending = { code: 'HEALTHY_STREAK', detail: `${input.hasProbe ? 'passing' : 'running'} for ${passingFor} of ${input.timing.minHealthyTime} ms` };
  }

  if (input.now >= deadline || input.observations.some((observation) => observation.at > deadline)) {
    return failed('E_HEALTHY_DEADLINE', deadline, `not healthy within ${input.timing.healthyDeadline} ms of the restart; last: ${pending.detail}`);
  }
  return { state: 'pending', ...pending, lastProbe, ...(newRun === undefined ? {} : { run: newRun }) };
}

function awaitingNewRunDetail(before: HealthInput['before']): string {
  return before === undefined || before.invocationId === ''
    ? 'no run of the unit yet'
    : `the unit still shows the run from before the restart (InvocationID ${before.invocationId})`;
}

function describeProbe(probe: ProbeResult | undefined): string {
  if (probe === undefined) return 'no result';
  const parts = [probe.error ?? (probe.status === undefined ? 'not ok' : `status ${probe.status}`), `${probe.latencyMs} ms`];
  if (probe.error !== undefined && probe.status !== undefined) parts.splice(1, 0, `status ${probe.status}`);
  return parts.join(', ');
}
