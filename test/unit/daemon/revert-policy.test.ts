import { describe, expect, it } from 'vitest';
import { decideRevert, type CandidateCommit, type RevertPolicyInput } from '../../../src/rollback/revert-policy.js';

function commit(sha: string, changedPaths: string[], overrides: Partial<CandidateCommit> = {}): CandidateCommit {
  return { sha, subject: `commit ${sha}`, changedPaths, isRevert: false, writtenByTend: false, ...overrides };
}

function input(overrides: Partial<RevertPolicyInput> = {}): RevertPolicyInput {
  return {
    service: 'api',
    autoRollback: true,
    failedCommit: 'c3',
    currentHead: 'c3',
    sinceStable: [commit('c3', ['services/api/spec.yml'])],
    alreadyReverted: new Set(),
    ...overrides,
  };
}

describe('decideRevert', () => {
  it('reverts the commit that changed the failing service', () => {
    expect(decideRevert(input())).toMatchObject({ kind: 'revert', commit: { sha: 'c3' } });
  });

  it('reverts only the newest commit that changed the service, never a good one landed just before it', () => {
    const sinceStable = [commit('c3', ['services/api/api']), commit('c2', ['services/queue/spec.yml']), commit('c1', ['services/api/spec.yml'])];
    expect(decideRevert(input({ sinceStable }))).toMatchObject({ kind: 'revert', commit: { sha: 'c3' } });
  });

  it('blames repo-wide files only when no commit changed the service itself', () => {
    const sinceStable = [commit('c3', ['services/queue/spec.yml']), commit('c2', ['inventory.yml'])];
    expect(decideRevert(input({ sinceStable }))).toMatchObject({ kind: 'revert', commit: { sha: 'c2' } });
  });

  it('judges the commit below a failed revert of tend\'s on the hosts\' evidence of running it (bad then bad)', () => {
    const ownRevert = commit('r1', ['services/api/api'], { isRevert: true, writtenByTend: true });
    const sinceStable = [ownRevert, commit('c3', ['services/api/api']), commit('c2', ['services/queue/spec.yml']), commit('c1', ['services/api/api'])];
    const decision = decideRevert(input({ failedCommit: 'r1', currentHead: 'r1', sinceStable, alreadyReverted: new Set(['c3']) }));
    expect(decision).toMatchObject({ kind: 'revert', commit: { sha: 'c1' } });
  });

  it('halts with E_ROLLBACK_FAILED once tend\'s revert fails and every commit below it is reverted already', () => {
    const sinceStable = [commit('r2', ['services/api/api'], { isRevert: true, writtenByTend: true }), commit('r1', ['services/api/api'], { isRevert: true, writtenByTend: true }), commit('c3', ['services/api/api']), commit('c1', ['services/api/api'])];
    const decision = decideRevert(input({ failedCommit: 'r2', currentHead: 'r2', sinceStable, alreadyReverted: new Set(['c3', 'c1']) }));
    expect(decision).toMatchObject({ kind: 'halt', code: 'E_ROLLBACK_FAILED' });
  });

  it('does not revert a commit that is no longer the desired head', () => {
    expect(decideRevert(input({ currentHead: 'c4' }))).toEqual({ kind: 'superseded' });
  });

  it.each([
    ['auto_rollback is off', { autoRollback: false }, 'E_AUTO_ROLLBACK_DISABLED'],
    ['the service was never healthy', { sinceStable: undefined }, 'E_ROLLBACK_NO_BASELINE'],
    ['the culprit is tend\'s own revert (the rollback failed)', { sinceStable: [commit('c3', ['services/api/spec.yml'], { isRevert: true, writtenByTend: true })] }, 'E_ROLLBACK_FAILED'],
    ['the culprit is a person\'s revert', { sinceStable: [commit('c3', ['services/api/spec.yml'], { isRevert: true })] }, 'E_REVERT_OF_REVERT'],
    ['the culprit was reverted once already', { alreadyReverted: new Set(['c3']) }, 'E_ALREADY_REVERTED'],
    ['nothing since the last healthy commit changed the service', { sinceStable: [commit('c3', ['services/queue/spec.yml'])] }, 'E_REVERT_NO_CULPRIT'],
  ] as const)('halts when %s', (_, overrides, code) => {
    const decision = decideRevert(input(overrides));
    expect(decision).toMatchObject({ kind: 'halt', code });
    expect(decision.kind === 'halt' && decision.hint.length).toBeGreaterThan(20);
  });
});
