import type { HealthFailureCode } from './health-decision.js';
import type { RolloutStopCode } from './progress-decision.js';

/**
 * Every code the pure rollout decisions produce. Their hints are the registry's (errors/codes.ts): the
 * daemon shows them with a service's condition and writes them into the revert commit's evidence.
 */
export type RolloutErrorCode = HealthFailureCode | RolloutStopCode;
