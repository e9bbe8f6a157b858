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
    expect(decideRevert(input())).toMatchObject({ kind: 'revert', commits: [{ sha: 'c3' }] });
  });

  it('reverts every commit since the last healthy one that changed the service, newest first, and no other', () => {
    const sinceStable = [commit('c3', ['services/api/api']), commit('c2', ['services/queue/spec.yml']), commit('c1', ['services/api/spec.yml'])];
    const decision = decideRevert(input({ sinceStable }));
    expect(decision.kind === 'revert' && decision.commits.map((one) => one.sha)).toEqual(['c3', 'c1']);
  });

  it('blames repo-wide files only when no commit changed the service itself', () => {
    const sinceStable = [commit('c3', ['services/queue/spec.yml']), commit('c2', ['inventory.yml'])];
    const decision = decideRevert(input({ sinceStable }));
    expect(decision.kind === 'revert' && decision.commits.map((one) => one.sha)).toEqual(['c2']);
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
