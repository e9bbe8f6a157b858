import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { TendError } from '../../../../src/errors/index.js';
import type { CommitInfo, DeploySource, PlanRef } from '../../../../src/source/index.js';
import type { RepoEntry, RepoReader } from '../../../../src/spec/index.js';

type Tree = ReadonlyMap<string, Uint8Array>;

interface StoredCommit {
  readonly info: CommitInfo;
  readonly tree: Tree;
}

/**
 * A deploy repo held in memory: linear history on one branch, with the revert and push semantics the
 * daemon relies on (a revert is the inverse of a commit's own changes, refused when a later commit changed
 * the same file; a push is compare-and-swap). Enough git for the reconciler's decisions, none of its I/O.
 */
export class MemorySource implements DeploySource {
  readonly description = 'memory://deploy';
  readonly branch = 'main';
  readonly gitdir = '/nonexistent';
  readonly #commits = new Map<string, StoredCommit>();
  #head: string | undefined;
  #clock = 1_700_000_000_000;
  /** Thrown by the next fetches, then cleared: a git outage. */
  failFetches: TendError | undefined;
  fetches = 0;
  readonly pushes: string[] = [];
  /** Who writes the next commits, as a developer would set `user.name`; tend's reverts are by `revertAuthor`. */
  author = { name: 'Dev', email: 'dev@example.com' };
  revertAuthor = { name: 'tend', email: 'tend@deploy.invalid' };

  get head(): string {
    if (this.#head === undefined) throw new Error('the memory source has no commit yet');
    return this.#head;
  }

  /** Commits `changes` (a path -> text, or null to delete) on top of the head; returns the new sha. */
  commitChanges(subject: string, changes: Readonly<Record<string, string | Uint8Array | null>>, message = subject): string {
    const parent = this.#head === undefined ? undefined : this.#commits.get(this.#head);
    const tree = new Map(parent?.tree ?? []);
    for (const [path, content] of Object.entries(changes)) {
      if (content === null) tree.delete(path);
      else tree.set(path, typeof content === 'string' ? new TextEncoder().encode(content) : content);
    }
    return this.#store(subject, message, tree, parent === undefined ? [] : [parent.info.sha], this.author);
  }

  /** Other refs of the server (a pull request's head, a feature branch): what `fetchRef` finds. */
  readonly refs = new Map<string, string>();

  /** Commits `changes` on `ref` (starting from the branch head), leaving the followed branch where it is. */
  commitOnRef(ref: string, subject: string, changes: Readonly<Record<string, string | null>>): string {
    const parent = this.#need(this.refs.get(ref) ?? this.head);
    const tree = new Map(parent.tree);
    for (const [path, content] of Object.entries(changes)) {
      if (content === null) tree.delete(path);
      else tree.set(path, new TextEncoder().encode(content));
    }
    const sha = this.#store(subject, subject, tree, [parent.info.sha], this.author, false);
    this.refs.set(ref, sha);
    return sha;
  }

  async fetchRef(ref: PlanRef): Promise<string> {
    const sha = ref.kind === 'sha' ? (this.#commits.has(ref.sha) ? ref.sha : undefined) : this.refs.get(ref.ref);
    if (sha === undefined) throw new TendError('E_PLAN_REF_MISSING', 'invalid', `${ref.kind === 'sha' ? ref.sha : ref.ref} is not on ${this.description}`, { hint: 'Push it first.' });
    return sha;
  }

  /** Points the branch at an earlier commit, as a force-push or `git reset` on the server would. */
  resetHead(sha: string): void {
    this.#need(sha);
    this.#head = sha;
  }

  fileAt(sha: string, path: string): string | undefined {
    const bytes = this.#commits.get(sha)?.tree.get(path);
    return bytes === undefined ? undefined : new TextDecoder().decode(bytes);
  }

  /** Every commit from the head back, newest first. */
  log(): readonly CommitInfo[] {
    const out: CommitInfo[] = [];
    for (let sha = this.#head; sha !== undefined; sha = this.#commits.get(sha)?.info.parents[0]) out.push(this.#need(sha).info);
    return out;
  }

  /** git revert semantics on a linear history: undo the commit's own changes, refusing where later work touched them. */
  async revert(input: { readonly onto: string; readonly revert: string; readonly message: string }): Promise<string> {
    const target = this.#need(input.revert);
    const parentTree = target.info.parents[0] === undefined ? new Map<string, Uint8Array>() : this.#need(target.info.parents[0]).tree;
    const onto = this.#need(input.onto);
    const tree = new Map(onto.tree);
    const conflicts: string[] = [];
    for (const path of await this.changedPaths(input.revert)) {
      if (!sameBytes(onto.tree.get(path), target.tree.get(path))) conflicts.push(path);
      const before = parentTree.get(path);
      if (before === undefined) tree.delete(path);
      else tree.set(path, before);
    }
    if (conflicts.length > 0) throw new TendError('E_REVERT_CONFLICT', 'conflict', `reverting ${input.revert.slice(0, 12)} conflicts in ${conflicts.join(', ')}`, { hint: 'Revert it by hand.' });
    const subject = input.message.split('\n')[0] ?? '';
    return this.#store(subject, input.message, tree, [input.onto], this.revertAuthor, false);
  }

  async fetch(): Promise<string> {
    this.fetches += 1;
    if (this.failFetches !== undefined) throw this.failFetches;
    return this.head;
  }

  readerAt(sha: string): RepoReader {
    const tree = this.#need(sha).tree;
    return {
      list: async (path) => {
        const prefix = path === '' ? '' : `${path}/`;
        const entries = new Map<string, RepoEntry>();
        for (const file of tree.keys()) {
          if (!file.startsWith(prefix)) continue;
          const [name, ...rest] = file.slice(prefix.length).split('/');
          if (name !== undefined) entries.set(name, { name, type: rest.length > 0 ? 'dir' : 'file' });
        }
        return [...entries.values()];
      },
      size: async (path) => this.#file(tree, path).length,
      readFile: async (path) => this.#file(tree, path),
      readLink: async (path) => {
        throw new Error(`no symlink at ${path}`);
      },
    };
  }

  async commit(sha: string): Promise<CommitInfo> {
    return this.#need(sha).info;
  }

  async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    for (let sha: string | undefined = descendant; sha !== undefined; sha = this.#commits.get(sha)?.info.parents[0]) if (sha === ancestor) return true;
    return false;
  }

  async commitsBetween(from: string | undefined, to: string): Promise<readonly CommitInfo[]> {
    const out: CommitInfo[] = [];
    for (let sha: string | undefined = to; sha !== undefined && sha !== from; sha = this.#commits.get(sha)?.info.parents[0]) out.push(this.#need(sha).info);
    return out;
  }

  async changedPaths(sha: string): Promise<readonly string[]> {
    const commit = this.#need(sha);
    const parent = commit.info.parents[0] === undefined ? new Map<string, Uint8Array>() : this.#need(commit.info.parents[0]).tree;
    const paths = new Set([...commit.tree.keys(), ...parent.keys()]);
    return [...paths].filter((path) => !sameBytes(commit.tree.get(path), parent.get(path))).sort();
  }

  async push(sha: string, expectedHead: string): Promise<void> {
    if (this.#head !== expectedHead) throw new TendError('E_PUSH_RACE', 'transient', 'the branch moved', { hint: 'Fetch and re-plan.' });
    this.pushes.push(sha);
    this.#head = sha;
  }

  watch(): undefined {
    return undefined;
  }

  #store(subject: string, message: string, tree: Tree, parents: string[], author: { readonly name: string; readonly email: string }, moveHead = true): string {
    this.#clock += 1_000;
    const sha = createHash('sha1').update(`${parents.join(',')}\n${message}\n${this.#commits.size}`).digest('hex');
    const trailers = new Map<string, string[]>();
    for (const line of message.split('\n')) {
      const match = /^([A-Za-z-]+): (.*)$/.exec(line);
      if (match?.[1] !== undefined && match[2] !== undefined) trailers.set(match[1], [...(trailers.get(match[1]) ?? []), match[2]]);
    }
    this.#commits.set(sha, {
      info: { sha, parents, subject, message, authorName: author.name, authorEmail: author.email, committedAt: this.#clock, trailers },
      tree,
    });
    if (moveHead) this.#head = sha;
    return sha;
  }

  #need(sha: string): StoredCommit {
    const commit = this.#commits.get(sha);
    if (commit === undefined) throw new TendError('E_GIT_COMMIT_MISSING', 'conflict', `no commit ${sha}`);
    return commit;
  }

  #file(tree: Tree, path: string): Uint8Array {
    const bytes = tree.get(path);
    if (bytes === undefined) throw new Error(`no file ${path}`);
    return bytes;
  }
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return Buffer.from(a).equals(Buffer.from(b));
}

/** The files of a directory on disk, by repo path: the example repo as a first commit. */
export async function filesOf(dir: string): Promise<Record<string, Uint8Array>> {
  const out: Record<string, Uint8Array> = {};
  const walk = async (at: string): Promise<void> => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) await walk(path);
      else out[relative(dir, path)] = await readFile(path);
    }
  };
  await walk(dir);
  return out;
}
