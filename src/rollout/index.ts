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
export type { RolloutErrorCode } from './rollout-errors.js';
// Effects: the apply that carries out a plan through the SSH layer, driven by the decisions above.
export { applyPlan } from './apply-plan.js';
export type { ApplyInput, ApplyResult, ServiceRolloutResult } from './apply-plan.js';
export { runHostStep } from './host-step-effects.js';
export type { HostStepInput, HostStepResult, RolloutEffects, StepPhase, StepProgress } from './host-step-effects.js';
export { hostStepMarkText } from './host-step-mark.js';
export type { StepActor, StepEdge } from './host-step-mark.js';
