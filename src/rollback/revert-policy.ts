import { shortCommit } from '../source/commit-id.js';
import { pathBearsOn } from '../spec/index.js';

import { hintOf } from '../errors/index.js';

/**
 * Whether and what to auto-revert after a change-caused rollout failure. Pure: the daemon gathers the
 * commits, this decides. The guards are the ones on-call relies on: one commit at a time, newest first,
 * and only one whose content the failing hosts ran; never a revert (tend's own or a person's), at most
 * once per bad commit, and never past the last commit the service was healthy at. A good commit landed
 * just before a bad one is never reverted with it: if the hosts then fail on it too, it is judged on that
 * evidence of its own.
 */

export interface CandidateCommit {
  readonly sha: string;
  readonly subject: string;
  /** Paths the commit changed against its first parent. */
  readonly changedPaths: readonly string[];
  /** The commit is a revert (`This reverts commit …`). */
  readonly isRevert: boolean;
  /** The commit was written by tend (it carries a `Tend-Rollout-Id:` trailer). */
  readonly writtenByTend: boolean;
}

export interface RevertPolicyInput {
  readonly service: string;
  readonly autoRollback: boolean;
  /** The commit whose rollout failed. */
  readonly failedCommit: string;
  /** The branch head as last fetched; a newer commit supersedes the failure. */
  readonly currentHead: string;
  /**
   * Commits after the last one the service was healthy at, up to and including the failed commit, newest
   * first; undefined when the service was never healthy under tend (there is nothing to go back to).
   */
  readonly sinceStable: readonly CandidateCommit[] | undefined;
  /** Bad commits tend already reverted (from its journal and from `This reverts commit` lines in history). */
  readonly alreadyReverted: ReadonlySet<string>;
}

export type RevertHaltCode =
  | 'E_AUTO_ROLLBACK_DISABLED'
  | 'E_ROLLBACK_FAILED'
  | 'E_REVERT_OF_REVERT'
  | 'E_ROLLBACK_NO_BASELINE'
  | 'E_REVERT_NO_CULPRIT'
  | 'E_ALREADY_REVERTED';

export type RevertDecision =
  /** Revert this one commit. */
  | { readonly kind: 'revert'; readonly commit: CandidateCommit }
  /** Do nothing automatic for this service; a person decides. */
  | { readonly kind: 'halt'; readonly code: RevertHaltCode; readonly message: string; readonly hint: string }
  /** A newer commit is the desired state now: re-plan against it instead of reverting. */
  | { readonly kind: 'superseded' };


export function decideRevert(input: RevertPolicyInput): RevertDecision {
  if (input.currentHead !== input.failedCommit) return { kind: 'superseded' };
  if (input.sinceStable === undefined) {
    return halt('E_ROLLBACK_NO_BASELINE', `${input.service} failed at ${shortCommit(input.failedCommit)} and was never healthy at an earlier commit`);
  }
  // Newest first: the newest commit that changed the service made the files the failing hosts ran.
  const [newest, ...older] = culpritsOf(input.service, input.sinceStable);
  if (newest === undefined) {
    return halt('E_REVERT_NO_CULPRIT', `no commit since ${input.service} was last healthy changed it`);
  }
  let target = newest;
  if (newest.writtenByTend) {
    // tend's own revert failed to roll out: the hosts ran what it restored, made by the newest commit below it
    // that is not itself reverted. That commit is judged on this evidence; with none left, the rollback failed.
    const restored = older.find((commit) => !commit.isRevert && !input.alreadyReverted.has(commit.sha));
    if (restored === undefined) {
      return halt('E_ROLLBACK_FAILED', `the rollback of ${input.service} failed: tend's own revert ${shortCommit(newest.sha)} did not become healthy`);
    }
    target = restored;
  } else if (newest.isRevert) {
    return halt('E_REVERT_OF_REVERT', `${shortCommit(newest.sha)} "${newest.subject}" is a revert and failed to roll out`);
  } else if (input.alreadyReverted.has(newest.sha)) {
    return halt('E_ALREADY_REVERTED', `${shortCommit(newest.sha)} was already reverted once`);
  }
  if (!input.autoRollback) {
    return halt('E_AUTO_ROLLBACK_DISABLED', `${input.service} failed at ${shortCommit(input.failedCommit)} and has auto_rollback: false`);
  }
  return { kind: 'revert', commit: target };
}

/**
 * The commits that changed the service's own directory; only when none did, the repo-wide files (a changed
 * inventory or default can break a service whose spec never changed).
 */
function culpritsOf(service: string, commits: readonly CandidateCommit[]): CandidateCommit[] {
  const own = commits.filter((commit) => commit.changedPaths.some((path) => pathBearsOn(service, path) === 'own'));
  if (own.length > 0) return own;
  return commits.filter((commit) => commit.changedPaths.some((path) => pathBearsOn(service, path) === 'repo-wide'));
}

function halt(code: RevertHaltCode, message: string): RevertDecision {
  return { kind: 'halt', code, message, hint: hintOf(code) };
}
