import type { DaemonApi } from '../../../src/api/index.js';
import type { RolloutRecord } from '../../../src/state/index.js';
import type { DaemonStatus, HostStatus, ServiceStatus } from '../../../src/status/index.js';

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
    { inFlight: { rolloutId: 'r-20241121-0308-api', commit: REVERT, phase: 'rollback', startedAt: NOW - 3 * MINUTE }, hosts: FAILED_ROLLOUT_HOSTS, recentRollouts: FAILED_ROLLOUT_HISTORY },
  );
}

function host(service: string, name: string, commit: string, state: HostStatus['state'], patch: Partial<HostStatus> = {}): HostStatus {
  return {
    service,
    host: name,
    commit,
    version: commit === GOOD ? '1.4.2-1' : '1.5.0-1',
    state,
    unit: state === 'failed' ? 'failed/failed' : 'active/running',
    lastProbe: { ok: state !== 'failed', at: NOW - 5 * MINUTE, latencyMs: 4, status: state === 'failed' ? 503 : 200, error: undefined },
    since: NOW - (state === 'failed' ? 5 : 240) * MINUTE,
    observedAt: NOW - MINUTE,
    ...patch,
  };
}

export const FAILED_ROLLOUT_HOSTS: readonly HostStatus[] = [
  host('api', 'web-1', BAD, 'failed'),
  host('api', 'web-2', GOOD, 'pending'),
  host('gateway', 'edge-1', GATEWAY_BAD, 'failed', { unit: undefined, lastProbe: { ok: false, at: NOW - 17 * MINUTE, latencyMs: 2_001, status: undefined, error: 'connect ECONNREFUSED 127.0.0.1:8443' } }),
  host('gateway', 'edge-2', GOOD, 'synced'),
  host('queue', 'mq-1', GOOD, 'synced', { lastProbe: undefined }),
];

function rollout(rolloutId: string, service: string, commit: string, subject: string, author: string, result: RolloutRecord['result'], startedAt: number, endedAt: number, patch: Partial<RolloutRecord> = {}): RolloutRecord {
  return { rolloutId, service, commit, subject, author, startedAt, endedAt, result, code: undefined, failedHosts: [], reverts: undefined, revertCommit: undefined, ...patch };
}

/** Newest first, as /status carries them. */
export const FAILED_ROLLOUT_HISTORY: readonly RolloutRecord[] = [
  rollout('r-20241121-0306-api', 'api', BAD, 'api: raise the connection pool to 400', 'Bob Builder <bob@example.com>', 'failed-change', NOW - 6 * MINUTE, NOW - 4 * MINUTE, { code: 'E_UNIT_FAILED', failedHosts: ['web-1'], revertCommit: REVERT }),
  rollout('r-20241121-0254-gateway', 'gateway', GATEWAY_BAD, 'gateway: TLS 1.3 only', 'Ada Lovelace <ada@example.com>', 'failed-change', NOW - 18 * MINUTE, NOW - 17 * MINUTE, { code: 'E_PROBE_FAILED', failedHosts: ['edge-1'] }),
  rollout('r-20241120-2301-queue', 'queue', GOOD, 'queue: 3 workers', 'Ada Lovelace <ada@example.com>', 'succeeded', NOW - 250 * MINUTE, NOW - 247 * MINUTE),
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

/** A daemon behind the HTTP server that does nothing: each test overrides what it looks at. */
export function stubDaemonApi(overrides: Partial<DaemonApi> = {}): DaemonApi {
  return {
    status: () => baseStatus([]),
    history: () => [],
    metrics: async () => ({ contentType: 'text/plain', text: '' }),
    ready: () => ({ ready: true, role: 'single' }),
    poke: async () => ({}),
    operator: async () => [],
    pause: async () => 'unknown-service',
    resume: async () => false,
    plan: async () => {
      throw new Error('this test plans no ref');
    },
    pullRequest: () => ({ accepted: false, reason: 'no git host is configured (githost)' }),
    ...overrides,
  };
}
