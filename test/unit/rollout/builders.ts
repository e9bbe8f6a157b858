import type { HostStep, ServicePlan, SkippedHost } from '../../../src/plan/model.js';
import type { RolloutBudget, RolloutEvent } from '../../../src/rollout/progress-decision.js';

function step(service: string, host: string): HostStep {
  return { host, service, action: 'update', reasons: [], writes: [], deletes: [], release: undefined, releasePresent: false, needsDaemonReload: false };
}

/** A service plan with the given batches of host names. */
export function aServicePlan(batches: string[][], skipped: { unreachable?: SkippedHost[]; blocked?: SkippedHost[] } = {}): ServicePlan {
  return {
    service: 'api',
    waitsFor: [],
    hostCount: batches.flat().length + (skipped.unreachable?.length ?? 0) + (skipped.blocked?.length ?? 0),
    batches: batches.map((batch) => batch.map((host) => step('api', host))),
    unchanged: [],
    unreachable: skipped.unreachable ?? [],
    blocked: skipped.blocked ?? [],
  };
}

export function aBudget(overrides: Partial<RolloutBudget> = {}): RolloutBudget {
  return { canary: 1, maxFailedHosts: 0, progressDeadline: 600_000, ...overrides };
}

export const started = (host: string, at = 0): RolloutEvent => ({ type: 'host-started', host, at });
export const healthy = (host: string, at = 0): RolloutEvent => ({ type: 'host-healthy', host, at });
export const failedByChange = (host: string, at = 0, code = 'E_HEALTHY_DEADLINE'): RolloutEvent => ({
  type: 'host-failed',
  host,
  at,
  errorClass: 'change',
  code,
  detail: 'probe failed: connection refused',
});
export const unreachable = (host: string, at = 0): RolloutEvent => ({
  type: 'host-unreachable',
  host,
  at,
  code: 'E_HOST_UNREACHABLE',
  detail: 'connection reset',
});
