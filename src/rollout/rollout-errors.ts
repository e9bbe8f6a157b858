import { TendError } from '../errors/index.js';
import type { HealthFailureCode } from './health-decision.js';
import type { RolloutDecision, RolloutStopCode } from './progress-decision.js';

/** Every code the pure rollout decisions produce; their hints are the registry's (errors/codes.ts). */
export type RolloutErrorCode = HealthFailureCode | RolloutStopCode;

/** The TendError a stopped rollout surfaces: the same code and class in status, metrics, logs and alerts. */
export function rolloutStopError(service: string, decision: Extract<RolloutDecision, { kind: 'stop' }>): TendError {
  return new TendError(decision.code, decision.errorClass, `rollout of ${service} stopped: ${decision.detail}`);
}

/** The TendError of one host whose new run failed its health judgement. */
export function hostHealthError(service: string, host: string, code: HealthFailureCode, detail: string): TendError {
  return new TendError(code, 'change', `${service} on ${host}: ${detail}`, { where: { host } });
}
