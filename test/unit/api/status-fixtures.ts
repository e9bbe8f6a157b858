import type { HostServiceRow, RecentRollout } from '../../../src/api/status-page.js';
import type { DaemonStatus, ServiceStatus } from '../../../src/status/index.js';

/** 03:12 UTC: the hour the page is for. */
export const NOW = Date.UTC(2024, 10, 21, 3, 12, 0);
const MINUTE = 60_000;

export const GOOD = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
export const BAD = 'c0ffee0123456789abcdef0123456789abcdef01';
export const REVERT = 'deadbeef0123456789abcdef0123456789abcdef';
export const GATEWAY_BAD = 'feed5eed0123456789abcdef0123456789abcdef';

export function synced(service: string, commit = GOOD, since = NOW - 240 * MINUTE): ServiceStatus {
  return {
    service,
    state: 'Synced',
    code: undefined,
    errorClass: undefined,
    message: 'every host runs the desired commit and is healthy',
    hint: undefined,
    since,
    desiredCommit: commit,
    stableCommit: commit,
  };
}

export function baseStatus(services: readonly ServiceStatus[], overrides: Partial<DaemonStatus> = {}): DaemonStatus {
  return {
    version: 1,
    startedAt: NOW - 26 * 60 * MINUTE,
    settled: true,
    source: {
      description: 'https://git.example.com/ops/deploy.git',
      branch: 'main',
      head: BAD,
      lastFetchAt: NOW - 8_000,
      lastFetchOkAt: NOW - 8_000,
      error: undefined,
    },
    lastApplied: GOOD,
    lastAttempted: BAD,
    stalled: undefined,
    inFlight: undefined,
    services,
    hosts: [],
    recentRollouts: [],
    ...overrides,
  };
}

/**
 * A failed rollout, in the order the page must not use: the canary of `api` failed on web-1 and tend is
 * rolling back its revert; `gateway`'s revert conflicts and waits for a person; `queue` is fine.
 */
export function failedRolloutStatus(): DaemonStatus {
  return baseStatus(
    [
      synced('queue'),
      {
        service: 'api',
        state: 'Degraded',
        code: 'E_CANARY_FAILED',
        errorClass: 'change',
        message: `reverted by ${REVERT.slice(0, 12)}; rolling back (canary web-1 failed its http probe on :8080/healthz: 503 three times)`,
        hint: 'Nothing to do now: tend is rolling the hosts back to the revert. Fix the change and push a new commit.',
        since: NOW - 4 * MINUTE,
        desiredCommit: REVERT,
        stableCommit: GOOD,
        revertCommit: REVERT,
        failedHosts: ['web-1'],
      },
      {
        service: 'gateway',
        state: 'Stalled',
        code: 'E_REVERT_CONFLICT',
        errorClass: 'conflict',
        message: `reverting ${GATEWAY_BAD.slice(0, 12)} onto ${BAD.slice(0, 12)} conflicts in services/gateway/spec.yml`,
        hint: 'Revert the commit by hand (git revert), resolve the conflict and push; tend resumes on the new commit.',
        since: NOW - 17 * MINUTE,
        desiredCommit: GATEWAY_BAD,
        stableCommit: GOOD,
        failedHosts: ['edge-1'],
      },
    ],
    { inFlight: { rolloutId: 'r-20241121-0308-api', commit: REVERT, phase: 'rollback', startedAt: NOW - 3 * MINUTE } },
  );
}

export const FAILED_ROLLOUT_HOSTS: readonly HostServiceRow[] = [
  { host: 'web-1', service: 'api', commit: BAD, state: 'failed' },
  { host: 'web-2', service: 'api', commit: GOOD, state: 'healthy' },
  { host: 'edge-1', service: 'gateway', commit: GATEWAY_BAD, state: 'failed' },
  { host: 'edge-2', service: 'gateway', commit: GOOD, state: 'healthy' },
  { host: 'mq-1', service: 'queue', commit: GOOD, state: 'healthy' },
];

export const FAILED_ROLLOUT_HISTORY: readonly RecentRollout[] = [
  { rolloutId: 'r-20241121-0308-api', commit: REVERT, service: 'api', result: 'running', startedAt: NOW - 3 * MINUTE, endedAt: undefined },
  { rolloutId: 'r-20241121-0306-api', commit: BAD, service: 'api', result: 'failed-change', startedAt: NOW - 6 * MINUTE, endedAt: NOW - 4 * MINUTE, revertCommit: REVERT },
  { rolloutId: 'r-20241121-0254-gateway', commit: GATEWAY_BAD, service: 'gateway', result: 'failed-change', startedAt: NOW - 18 * MINUTE, endedAt: NOW - 17 * MINUTE },
  { rolloutId: 'r-20241120-2301-queue', commit: GOOD, service: 'queue', result: 'succeeded', startedAt: NOW - 250 * MINUTE, endedAt: NOW - 247 * MINUTE },
];

/** A commit whose spec does not validate: nothing moves until a new commit. */
export function invalidCommitStatus(): DaemonStatus {
  return baseStatus([synced('api'), synced('gateway'), synced('queue')], {
    stalled: {
      code: 'E_INVALID_COMMIT',
      errorClass: 'invalid',
      message: `commit ${BAD.slice(0, 12)} does not validate: 2 issues`,
      hint: 'Fix the files named below and push a new commit; nothing touches a host until then.',
      commit: BAD,
      since: NOW - 9 * MINUTE,
      issues: [
        { file: 'services/api/spec.yml', line: 12, col: 5, code: 'E_SCHEMA', message: 'deploy.probe.port must be an integer' },
        { file: 'services/gateway/spec.yml', line: 3, col: 1, code: 'E_AFTER_CYCLE', message: 'after: gateway -> api -> gateway is a cycle' },
      ],
    },
  });
}
