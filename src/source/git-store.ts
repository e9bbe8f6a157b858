import * as fs from 'node:fs';
import * as git from 'isomorphic-git';

import { InternalError, TendError } from '../errors/index.js';
import type { RepoReader } from '../spec/index.js';
import { commitSubject, commitTrailers } from './commit-message.js';
import type { CommitInfo, DeploySource } from './deploy-source.js';
import { gitTreeReader } from './git-tree-reader.js';

/** The read side both sources share: commits, history and trees of one git directory. */
export type GitStore = Pick<DeploySource, 'readerAt' | 'commit' | 'isAncestor' | 'commitsBetween' | 'changedPaths'>;

/**
 * Reads go through isomorphic-git with one shared `cache` (it keeps parsed pack indexes there), so loose
 * objects written by native git in the same directory are read as they are. Commits are immutable, so
 * each is parsed once and kept; a history walk after the first is in memory.
 */
export function gitStore(options: { gitdir: string; description: string; cache: object }): GitStore {
  const { gitdir, description, cache } = options;
  const commits = new Map<string, Promise<ParsedCommit>>();

  function parsed(sha: string): Promise<ParsedCommit> {
    let entry = commits.get(sha);
    if (entry === undefined) {
      entry = parseCommit(gitdir, cache, sha, description);
      commits.set(sha, entry);
      // A commit that is missing now may arrive with the next fetch.
      entry.catch(() => commits.delete(sha));
    }
    return entry;
  }

  async function commit(sha: string): Promise<CommitInfo> {
    return (await parsed(sha)).info;
  }

  /** Every commit reachable from `start` (itself included), stopping at those in `stop`. */
  async function reachable(start: string, stop: ReadonlySet<string> = new Set()): Promise<Map<string, CommitInfo>> {
    const seen = new Map<string, CommitInfo>();
    const pending = [start];
    for (let sha = pending.pop(); sha !== undefined; sha = pending.pop()) {
      if (seen.has(sha) || stop.has(sha)) continue;
      const info = await commit(sha);
      seen.set(sha, info);
      pending.push(...info.parents);
    }
    return seen;
  }

  async function changedPaths(sha: string): Promise<readonly string[]> {
    const { info, tree } = await parsed(sha);
    const parent = info.parents[0];
    const before = parent === undefined ? undefined : (await parsed(parent)).tree;
    const changed: string[] = [];
    await diffTrees(gitdir, cache, before, tree, '', changed);
    return changed.sort();
  }

  return {
    readerAt: (sha: string): RepoReader => gitTreeReader({ gitdir, cache, commit: sha }),
    commit,

    async isAncestor(ancestor, descendant) {
      await commit(ancestor);
      if (ancestor === descendant) return true;
      const pending = [descendant];
      const seen = new Set<string>();
      for (let sha = pending.pop(); sha !== undefined; sha = pending.pop()) {
        if (sha === ancestor) return true;
        if (seen.has(sha)) continue;
        seen.add(sha);
        pending.push(...(await commit(sha)).parents);
      }
      return false;
    },

    async commitsBetween(from, to) {
      const excluded = from === undefined ? new Set<string>() : new Set((await reachable(from)).keys());
      return newestFirst(await reachable(to, excluded));
    },

    changedPaths,
  };
}

interface ParsedCommit {
  readonly info: CommitInfo;
  readonly tree: string;
}

async function parseCommit(gitdir: string, cache: object, sha: string, description: string): Promise<ParsedCommit> {
  let result: git.ReadCommitResult;
  try {
    result = await git.readCommit({ fs, gitdir, oid: sha, cache });
  } catch (error) {
    if (error instanceof git.Errors.NotFoundError || error instanceof git.Errors.ObjectTypeError) {
      const what = error instanceof git.Errors.NotFoundError ? 'is not in' : 'is not a commit in';
      throw new TendError('E_GIT_COMMIT_MISSING', 'conflict', `commit ${sha} ${what} the history fetched from ${description}`, {
        hint:
          'The branch may have been rewritten (force-pushed) and the commit is gone, or the sha is mistyped. ' +
          'Check `git log` of the branch; tend does not deploy a commit it cannot read.',
        cause: error,
      });
    }
    throw new InternalError(`reading commit ${sha} from ${description} failed`, error);
  }
  const { commit } = result;
  const info: CommitInfo = {
    sha: result.oid,
    parents: commit.parent,
    subject: commitSubject(commit.message),
    message: commit.message,
    authorName: commit.author.name,
    authorEmail: commit.author.email,
    committedAt: commit.committer.timestamp * 1000,
    trailers: commitTrailers(commit.message),
  };
  return { info, tree: commit.tree };
}

/** Children before their parents; among commits that are ready, the latest committer time first. */
function newestFirst(commits: ReadonlyMap<string, CommitInfo>): CommitInfo[] {
  const children = new Map<string, number>();
  for (const info of commits.values()) {
    for (const parent of info.parents) {
      if (commits.has(parent)) children.set(parent, (children.get(parent) ?? 0) + 1);
    }
  }
  const ready = [...commits.values()].filter((info) => !children.has(info.sha));
  const ordered: CommitInfo[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => b.committedAt - a.committedAt || a.sha.localeCompare(b.sha));
    const next = ready.shift() as CommitInfo;
    ordered.push(next);
    for (const parent of next.parents) {
      const left = (children.get(parent) ?? 0) - 1;
      children.set(parent, left);
      const info = commits.get(parent);
      if (left === 0 && info !== undefined) ready.push(info);
    }
  }
  return ordered;
}

/** Paths of blobs, links and submodules that differ between two trees; a side may be absent. */
async function diffTrees(
  gitdir: string,
  cache: object,
  before: string | undefined,
  after: string | undefined,
  prefix: string,
  changed: string[],
): Promise<void> {
  const read = async (oid: string | undefined) =>
    oid === undefined ? new Map<string, git.TreeEntry>() : new Map((await git.readTree({ fs, gitdir, oid, cache })).tree.map((e) => [e.path, e]));
  const [left, right] = await Promise.all([read(before), read(after)]);
  for (const name of new Set([...left.keys(), ...right.keys()])) {
    const a = left.get(name);
    const b = right.get(name);
    if (a !== undefined && b !== undefined && a.oid === b.oid && a.mode === b.mode) continue;
    const path = prefix === '' ? name : `${prefix}/${name}`;
    const aTree = a?.type === 'tree' ? a.oid : undefined;
    const bTree = b?.type === 'tree' ? b.oid : undefined;
    if (aTree !== undefined || bTree !== undefined) await diffTrees(gitdir, cache, aTree, bTree, path, changed);
    // A path that is a file on one side and a directory on the other changed as a file too.
    if ((a !== undefined && aTree === undefined) || (b !== undefined && bTree === undefined)) changed.push(path);
  }
}
