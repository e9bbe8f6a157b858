import type { RepoReader } from '../spec/index.js';
import type { PlanRef } from './plan-ref.js';

export interface CommitInfo {
  readonly sha: string;
  readonly parents: readonly string[];
  /** The first paragraph of the message on one line, as git's `%s`. */
  readonly subject: string;
  /** The full message, as stored. */
  readonly message: string;
  readonly authorName: string;
  readonly authorEmail: string;
  /** Committer time, ms since the epoch. */
  readonly committedAt: number;
  /** Git-style trailers of the last paragraph, keys as written, values in order. */
  readonly trailers: ReadonlyMap<string, readonly string[]>;
}

/**
 * Where tend gets the deploy repo's commits: a git server over smart HTTP (`httpSource`) or a repository
 * on this machine (`localSource`). One source serves one branch. Calls are not meant to overlap: the
 * reconcile loop fetches, reads and pushes one step at a time.
 */
export interface DeploySource {
  /** The URL without credentials, or the local path; safe to log. */
  readonly description: string;
  readonly branch: string;
  /** A git directory native `git` can operate on (objects and refs of everything fetched). */
  readonly gitdir: string;
  /**
   * Fetches the branch; returns its head sha. Errors: E_GIT_UNREACHABLE, E_GIT_TIMEOUT, E_GIT_SERVER
   * (transient); E_GIT_AUTH, E_GIT_BRANCH_MISSING, E_GIT_REPO_MISSING, E_GIT_HTTP, E_GIT_REDIRECT
   * (conflict); for an HTTP source's first fetch, which native git makes, also E_GIT_NOT_FOUND and
   * E_GIT_FAILED (conflict).
   */
  fetch(): Promise<string>;
  /**
   * Fetches another ref to plan it (a branch, `refs/pull/7/head`, a sha) under `refs/tend/plan/`, never
   * moving the followed branch's ref; returns its sha. One fetch at a time with `fetch`. Errors:
   * E_PLAN_REF_MISSING (invalid), E_PLAN_NOT_READY (transient: the followed branch was never fetched), and
   * those of `fetch`.
   */
  fetchRef(ref: PlanRef): Promise<string>;
  /** A RepoReader over the tree of a commit, without checking it out. */
  readerAt(sha: string): RepoReader;
  /** Errors: E_GIT_COMMIT_MISSING (conflict) when the commit is not in the fetched history. */
  commit(sha: string): Promise<CommitInfo>;
  /** True when `ancestor` is reachable from `descendant`, including when they are equal. */
  isAncestor(ancestor: string, descendant: string): Promise<boolean>;
  /** Commits reachable from `to` but not from `from` (undefined: all), newest first. */
  commitsBetween(from: string | undefined, to: string): Promise<readonly CommitInfo[]>;
  /** Paths changed by a commit against its first parent (all paths for a root commit), sorted. */
  changedPaths(sha: string): Promise<readonly string[]>;
  /**
   * Makes the remote branch point at `sha`, a descendant of `expectedHead`, only if it still points at
   * `expectedHead`; never forced. A lost race: E_PUSH_RACE (transient: fetch and recompute). A push the
   * server refuses (hook, permissions, protected branch): E_PUSH_REJECTED (conflict). A timeout leaves
   * the outcome unknown: the next fetch tells.
   */
  push(sha: string, expectedHead: string): Promise<void>;
  /**
   * Local sources only: calls `onChange` when the branch moves away from the head last fetched; returns a
   * function that stops watching. HTTP sources return undefined (they are polled or told by webhook).
   */
  watch(onChange: () => void): (() => Promise<void>) | undefined;
}
