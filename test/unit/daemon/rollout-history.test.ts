import { describe, expect, it } from 'vitest';
import { appendRollouts, ROLLOUT_HISTORY_LIMIT, rolloutRecordsOf, withRevertCommit } from '../../../src/daemon/rollout-history.js';
import type { ServiceRolloutResult } from '../../../src/rollout/index.js';
import type { RolloutRecord } from '../../../src/state/index.js';

const COMMIT = { sha: 'a'.repeat(40), subject: 'api 2.0', authorName: 'Ada', authorEmail: 'ada@example.com' };

function record(rolloutId: string, service = 'api'): RolloutRecord {
  return { rolloutId, service, commit: COMMIT.sha, subject: 'x', author: 'Ada <ada@example.com>', startedAt: 1, endedAt: 2, result: 'succeeded', code: undefined, failedHosts: [], reverts: undefined, revertCommit: undefined };
}

describe('rollout history', () => {
  it(`keeps the newest ${ROLLOUT_HISTORY_LIMIT} records, dropping the oldest`, () => {
    const full = Array.from({ length: ROLLOUT_HISTORY_LIMIT }, (_, index) => record(`r-${index}`));
    const next = appendRollouts(full, [record('r-new-1'), record('r-new-2')]);
    expect(next).toHaveLength(ROLLOUT_HISTORY_LIMIT);
    expect(next[0]?.rolloutId).toBe('r-2');
    expect(next.at(-1)?.rolloutId).toBe('r-new-2');
  });

  it('leaves the history as it is when nothing finished (a transient attempt to be retried)', () => {
    const history = [record('r-1')];
    expect(appendRollouts(history, [])).toBe(history);
    expect(rolloutRecordsOf({ rolloutId: 'r-2', commit: COMMIT, startedAt: 1, endedAt: 2, reverts: undefined, finished: [], results: [] })).toEqual([]);
  });

  it('marks only the failed rollout of that service with the revert commit', () => {
    const history = [record('r-1'), record('r-2'), record('r-2', 'queue')];
    const marked = withRevertCommit(history, 'r-2', 'api', 'b'.repeat(40));
    expect(marked.map((one) => one.revertCommit)).toEqual([undefined, 'b'.repeat(40), undefined]);
  });

  it('records the failing host and its own code for a change failure, with the author as Name <email>', () => {
    const failed: ServiceRolloutResult = {
      service: 'api',
      result: 'failed-change',
      code: 'E_CANARY_FAILED',
      detail: 'web-1 failed',
      outcome: { result: 'failed-change', cause: { host: 'web-1', at: 5, errorClass: 'change', code: 'E_UNIT_FAILED', detail: 'failed' }, evidence: [] },
      steps: [{ service: 'api', host: 'web-1', action: 'update', outcome: 'failed', code: 'E_UNIT_FAILED', errorClass: 'change', detail: 'failed', hint: undefined, lastProbe: undefined, journal: undefined, startedAt: 1, endedAt: 5 }],
    };
    const [one] = rolloutRecordsOf({ rolloutId: 'r-3', commit: COMMIT, startedAt: 1, endedAt: 6, reverts: undefined, finished: [{ service: 'api', result: 'failed-change' }], results: [failed] });
    expect(one).toMatchObject({ author: 'Ada <ada@example.com>', subject: 'api 2.0', result: 'failed-change', code: 'E_UNIT_FAILED', failedHosts: ['web-1'], startedAt: 1, endedAt: 6 });
  });
});
