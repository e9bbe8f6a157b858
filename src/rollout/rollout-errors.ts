import { TendError } from '../errors/index.js';
import type { HealthFailureCode } from './health-decision.js';
import type { RolloutDecision, RolloutStopCode } from './progress-decision.js';

/** Every code the pure rollout decisions produce, with the hint a person sees next to it. */
export type RolloutErrorCode = HealthFailureCode | RolloutStopCode;

export const ROLLOUT_HINTS: Readonly<Record<RolloutErrorCode, string>> = {
  E_UNIT_FAILED: 'The new version failed or exited on start. Read `journalctl -u <unit>` on the host; tend reverts the commit unless auto_rollback is off.',
  E_UNIT_RESTARTED: 'The new version crashed and systemd restarted it. Read `journalctl -u <unit>` on the host for the crash.',
  E_HEALTHY_DEADLINE: 'The new version did not pass its probe for min_healthy_time before healthy_deadline. Check the probe port and path, or raise the deadline if start-up is slow.',
  E_FAILURE_BUDGET: 'More hosts failed than deploy.max_failed_hosts allows. The evidence lists each host and why it failed.',
  E_CANARY_FAILED: 'The canary failed because of the change, so no other host got it. The evidence names the failing check.',
  E_PROGRESS_DEADLINE: 'No host became healthy within progress_deadline. If hosts were unreachable tend retries later; otherwise check the new version.',
};

/** The TendError a stopped rollout surfaces: the same code and class in status, metrics, logs and alerts. */
export function rolloutStopError(service: string, decision: Extract<RolloutDecision, { kind: 'stop' }>): TendError {
  return new TendError(decision.code, decision.errorClass, `rollout of ${service} stopped: ${decision.detail}`, {
    hint: ROLLOUT_HINTS[decision.code],
  });
}

/** The TendError of one host whose new run failed its health judgement. */
export function hostHealthError(service: string, host: string, code: HealthFailureCode, detail: string): TendError {
  return new TendError(code, 'change', `${service} on ${host}: ${detail}`, { where: { host }, hint: ROLLOUT_HINTS[code] });
}
