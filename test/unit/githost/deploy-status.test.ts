import { describe, expect, it } from 'vitest';
import { deployChanges, deployStatusesOf } from '../../../src/githost/index.js';
import type { RolloutRecord } from '../../../src/state/index.js';
import type { DaemonStatus } from '../../../src/status/index.js';
import { baseStatus } from '../api/status-fixtures.js';

/** `tend/deploy` of each commit, read from the daemon's status alone. */

const GOOD = 'a'.repeat(40);
const BAD = 'b'.repeat(40);
const REVERT = 'c'.repeat(40);

function record(commit: string, result: RolloutRecord['result'], extra: Partial<RolloutRecord> = {}): RolloutRecord {
  return { rolloutId: `r-${commit.slice(0, 4)}-${result}`, service: 'api', commit, subject: 's', author: 'a <a@x>', startedAt: 1, endedAt: 2, result, code: result === 'succeeded' ? undefined : 'E_PROBE_FAILED', failedHosts: result === 'succeeded' ? [] : ['web-1'], reverts: undefined, revertCommit: undefined, ...extra };
}

function status(overrides: Partial<DaemonStatus>): DaemonStatus {
  return baseStatus([], overrides);
}

describe('deployStatusesOf', () => {
  const cases: { name: string; status: DaemonStatus; want: { sha: string; state: string; description: RegExp }[] }[] = [
    {
      name: 'pending while the commit rolls out',
      status: status({ inFlight: { rolloutId: 'r', commit: GOOD, phase: 'rollout', startedAt: 1 }, lastApplied: undefined }),
      want: [{ sha: GOOD, state: 'pending', description: /^rolling out/ }],
    },
    {
      name: 'success once the commit is applied (every host healthy)',
      status: status({ lastApplied: GOOD, recentRollouts: [record(GOOD, 'succeeded')] }),
      want: [{ sha: GOOD, state: 'success', description: /healthy on every host/ }],
    },
    {
      name: 'failure with the error code, the hosts and the revert commit of a reverted change',
      status: status({ lastApplied: REVERT, recentRollouts: [record(REVERT, 'succeeded', { reverts: BAD }), record(BAD, 'failed-change', { revertCommit: REVERT })] }),
      want: [
        { sha: BAD, state: 'failure', description: new RegExp(`^api: E_PROBE_FAILED on web-1; reverted by ${REVERT}$`) },
        { sha: REVERT, state: 'success', description: /healthy/ },
      ],
    },
    {
      name: 'still pending after a transient failure, which tend retries',
      status: status({ lastApplied: undefined, recentRollouts: [record(GOOD, 'failed-transient', { code: 'E_HOST_UNREACHABLE' })] }),
      want: [{ sha: GOOD, state: 'pending', description: /retrying after E_HOST_UNREACHABLE/ }],
    },
    {
      name: 'failure for a commit that does not validate, at file:line:col',
      status: status({
        lastApplied: undefined,
        stalled: { code: 'E_SCHEMA', errorClass: 'invalid', message: 'invalid commit', hint: undefined, commit: BAD, since: 1, issues: [{ file: 'services/api/spec.yml', line: 5, col: 5, code: 'E_SCHEMA', message: 'unknown field `serail`' }] },
      }),
      want: [{ sha: BAD, state: 'failure', description: /^E_SCHEMA: services\/api\/spec\.yml:5:5: unknown field/ }],
    },
  ];
  for (const { name, status: given, want } of cases) {
    it(name, () => {
      const got = deployStatusesOf(given).map((one) => ({ sha: one.sha, state: one.state, description: one.description }));
      expect(got).toEqual(want.map((one) => ({ ...one, description: expect.stringMatching(one.description) })));
      for (const one of deployStatusesOf(given)) expect(one.context).toBe('tend/deploy');
    });
  }
});

describe('deployChanges', () => {
  it('publishes nothing on the first observation after a start, only remembers', () => {
    const { publish, memory } = deployChanges(new Map(), status({ lastApplied: GOOD }), true);
    expect(publish).toEqual([]);
    expect(memory.get(GOOD)?.state).toBe('success');
  });

  it('publishes each change once: pending when the rollout starts, then success', () => {
    const started = deployChanges(new Map(), status({ lastApplied: undefined, inFlight: { rolloutId: 'r', commit: GOOD, phase: 'rollout', startedAt: 1 } }), false);
    expect(started.publish.map((one) => one.state)).toEqual(['pending']);
    const again = deployChanges(started.memory, status({ lastApplied: undefined, inFlight: { rolloutId: 'r', commit: GOOD, phase: 'rollout', startedAt: 1 } }), false);
    expect(again.publish).toEqual([]);
    const done = deployChanges(again.memory, status({ lastApplied: GOOD }), false);
    expect(done.publish.map((one) => `${one.sha.slice(0, 1)} ${one.state}`)).toEqual(['a success']);
  });

  it('never turns a finished commit back to pending', () => {
    const failed = deployChanges(new Map(), status({ lastApplied: undefined, recentRollouts: [record(BAD, 'failed-change')] }), false);
    const retried = deployChanges(failed.memory, status({ lastApplied: undefined, inFlight: { rolloutId: 'r2', commit: BAD, phase: 'rollback', startedAt: 3 }, recentRollouts: [record(BAD, 'failed-change')] }), false);
    expect(retried.publish).toEqual([]);
  });

  it('publishes a failure again when its revert commit becomes known', () => {
    const failed = deployChanges(new Map(), status({ lastApplied: undefined, recentRollouts: [record(BAD, 'failed-change')] }), false);
    const reverted = deployChanges(failed.memory, status({ lastApplied: undefined, recentRollouts: [record(BAD, 'failed-change', { revertCommit: REVERT })] }), false);
    expect(reverted.publish.map((one) => one.description)).toEqual([expect.stringContaining(`reverted by ${REVERT}`)]);
  });
});
