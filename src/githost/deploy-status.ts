import type { RolloutRecord } from '../state/index.js';
import type { DaemonStatus } from '../status/index.js';
import { statusDescription, type CommitState, type CommitStatus } from './commit-status.js';

/** What was last published per commit, so each observation publishes only what changed. Newest last. */
export type DeployMemory = ReadonlyMap<string, CommitStatus>;

/** Commits remembered; older ones are finished long ago. */
const REMEMBERED = 200;

/** Results that end a commit's rollout for good: tend reverts it or waits for a person. */
const FAILED: ReadonlySet<RolloutRecord['result']> = new Set(['failed-change', 'failed-conflict', 'failed-invalid', 'failed-internal']);

/**
 * `tend/deploy` of every commit the daemon's status shows, derived from that status alone (the reconciler
 * is not told about the git host): pending while its rollout runs or is retried after a transient
 * failure; success once it is the applied commit (every host healthy); failure with the error code, and
 * the revert commit once tend pushed one; error when a newer commit superseded it; failure for a commit
 * that does not validate.
 */
export function deployStatusesOf(status: DaemonStatus): CommitStatus[] {
  const byCommit = new Map<string, CommitStatus>();
  const set = (sha: string, state: CommitState, text: string): void => {
    byCommit.set(sha, { sha, context: 'tend/deploy', state, description: statusDescription(text) });
  };
  // Oldest first, so the newest record of a commit decides.
  for (const record of [...status.recentRollouts].reverse()) {
    if (FAILED.has(record.result)) {
      const where = record.failedHosts.length === 0 ? '' : ` on ${record.failedHosts.join(', ')}`;
      const revert = record.revertCommit === undefined ? '' : `; reverted by ${record.revertCommit}`;
      set(record.commit, 'failure', `${record.service}: ${record.code ?? record.result}${where}${revert}`);
    } else if (record.result === 'failed-transient' && byCommit.get(record.commit)?.state !== 'failure') {
      set(record.commit, 'pending', `${record.service}: retrying after ${record.code ?? 'a transient failure'}`);
    } else if (record.result === 'superseded' && byCommit.get(record.commit)?.state !== 'failure') {
      set(record.commit, 'error', `${record.service}: superseded by a newer commit before it finished`);
    }
  }
  if (status.inFlight !== undefined && byCommit.get(status.inFlight.commit)?.state !== 'failure') {
    set(status.inFlight.commit, 'pending', `rolling out (${status.inFlight.phase})`);
  }
  if (status.lastApplied !== undefined && byCommit.get(status.lastApplied)?.state !== 'failure') {
    set(status.lastApplied, 'success', 'healthy on every host');
  }
  const stalled = status.stalled;
  if (stalled?.commit !== undefined) {
    const issue = stalled.issues[0];
    set(stalled.commit, 'failure', `${stalled.code}: ${issue === undefined ? stalled.message : `${issue.file}:${issue.line}:${issue.col}: ${issue.message}`}`);
  }
  return [...byCommit.values()];
}

/**
 * The statuses to publish now: those that differ from what `memory` says was published. The first
 * observation after a start only fills the memory (`seed`), so a restart does not publish every commit of
 * the kept history again. A finished state (success, failure, error) is never replaced by pending.
 */
export function deployChanges(memory: DeployMemory, status: DaemonStatus, seed: boolean): { readonly memory: DeployMemory; readonly publish: readonly CommitStatus[] } {
  const next = new Map(memory);
  const publish: CommitStatus[] = [];
  for (const wanted of deployStatusesOf(status)) {
    const before = next.get(wanted.sha);
    if (before !== undefined && before.state === wanted.state && before.description === wanted.description) continue;
    if (before !== undefined && before.state !== 'pending' && wanted.state === 'pending') continue;
    next.delete(wanted.sha);
    next.set(wanted.sha, wanted);
    if (!seed) publish.push(wanted);
  }
  while (next.size > REMEMBERED) next.delete(next.keys().next().value as string);
  return { memory: next, publish };
}
