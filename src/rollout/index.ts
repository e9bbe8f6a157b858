// Pure decisions only; the effectful apply that runs them lives next to these files.
export { judgeHealth } from './health-decision.js';
export type { HealthFailureCode, HealthInput, HealthObservation, HealthPendingCode, HealthVerdict, ProbeResult } from './health-decision.js';
export { classifyOutcome, decideRollout, recordRolloutEvent, startRollout } from './progress-decision.js';
export type {
  HostEvidence,
  HostFailure,
  HostProgress,
  RolloutBudget,
  RolloutDecision,
  RolloutEvent,
  RolloutOutcome,
  RolloutResult,
  RolloutState,
  RolloutStopCode,
} from './progress-decision.js';
export { DEFAULT_RETRY_POLICY, nextRetry } from './retry-policy.js';
export type { RetryDecision, RetryPolicy } from './retry-policy.js';
export { ROLLOUT_HINTS, hostHealthError, rolloutStopError } from './rollout-errors.js';
export type { RolloutErrorCode } from './rollout-errors.js';
