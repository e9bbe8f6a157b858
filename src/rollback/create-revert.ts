import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TendError } from '../errors/index.js';
import { gitFailed, runNativeGit, type NativeGitResult } from './native-git.js';

/**
 * A revert commit computed by native git, because git's tree is the contract (../shared/DESIGN.md) and
 * isomorphic-git's merge, lacking rename detection, disagreed with `git revert` on 9.5% of histories.
 */

export interface RevertIdentity {
  readonly name: string;
  readonly email: string;
}

export interface CreateRevertOptions {
  /** A git dir, bare or `.git`, possibly written by isomorphic-git. Its refs and HEAD are never changed. */
  readonly gitdir: string;
  /** The commit to revert on top of: the current head of the branch. */
  readonly onto: string;
  /** The bad commit; a merge is reverted against its first parent (`-m 1`). */
  readonly revert: string;
  readonly message: string;
  /** Author and committer. */
  readonly identity: RevertIdentity;
  /** Author and committer date; fixed in tests so that the commit id is reproducible. */
  readonly date?: Date;
  /** For the whole revert; removing the worktree afterwards gets its own allowance. */
  readonly timeoutMs?: number;
}

/** A commit object only: no branch points at it until the caller pushes or merges it. */
export interface RevertCommit {
  readonly sha: string;
  readonly tree: string;
}

/** git could not apply the inverse of the bad commit to the current head; a person resolves it. */
export class RevertConflictError extends TendError {
  readonly paths: readonly string[];

  constructor(revert: string, onto: string, paths: readonly string[], mainline: boolean) {
    super('E_REVERT_CONFLICT', 'conflict', `reverting ${revert} onto ${onto} conflicts in ${paths.join(', ')}`, {
      hint:
        'Later commits changed the same lines or files, and tend never guesses a resolution. In a clone of the ' +
        `branch run \`git revert ${mainline ? '-m 1 ' : ''}${revert}\`, resolve ${paths.length === 1 ? 'that file' : 'those files'}, ` +
        '`git revert --continue`, then `git push`; tend deploys the result.',
    });
    this.name = 'RevertConflictError';
    this.paths = paths;
  }
}

const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * Set on every call so that the result depends on the two commits only, never on the machine's or the
 * user's git config: no hooks, no signing, no pager, no background gc, and the merge settings at git's
 * defaults: `pull.twohead` is where git's sequencer reads its strategy from, and `recursive` with
 * `merge.renames=false` in a user's config turns a clean revert of a rename into a conflict.
 */
const PINNED_CONFIG = [
  'core.hooksPath=/dev/null',
  'commit.gpgSign=false',
  'core.pager=cat',
  'core.autocrlf=false',
  'gc.auto=0',
  'maintenance.auto=false',
  'pull.twohead=ort',
  'merge.renames=true',
  'merge.directoryRenames=conflict',
  'merge.renormalize=false',
].flatMap((setting) => ['-c', setting]);

export async function createRevertCommit(options: CreateRevertOptions): Promise<RevertCommit> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  const env = isolatedGitEnv(options.identity, options.date);
  const git = (args: readonly string[], cwd: string, input?: string): Promise<NativeGitResult> =>
    runNativeGit([...PINNED_CONFIG, ...args], { cwd, env, timeoutMs: Math.max(1, deadline - Date.now()), ...(input === undefined ? {} : { input }) });
  // Absolute, because every call runs from somewhere else: the temp dir or the worktree.
  const gitdir = resolve(options.gitdir);
  const inGitdir = (args: readonly string[], input?: string): Promise<NativeGitResult> => git([`--git-dir=${gitdir}`, ...args], tmpdir(), input);

  checkIdentity(options.identity);
  const onto = await resolveCommit(inGitdir, options.onto);
  const revert = await resolveCommit(inGitdir, options.revert);
  const parents = await parentsOf(inGitdir, revert);
  if (parents.length === 0) {
    throw new TendError('E_REVERT_ROOT', 'conflict', `${revert} has no parent in this repository: it is the first commit, or lies at the depth limit of a shallow clone`, {
      hint: 'Reverting a first commit would delete the whole deploy repo, so tend refuses. Fix forward with a new commit instead.',
    });
  }
  const ancestry = await inGitdir(['merge-base', '--is-ancestor', revert, onto]);
  if (ancestry.code === 1) {
    throw new TendError('E_REVERT_NOT_ANCESTOR', 'conflict', `${revert} is not in the history of ${onto}, so there is nothing of it to revert there`, {
      hint: 'The commit was never merged into this branch, or the history was rewritten (a force-push) since. Check `git log` of the branch.',
    });
  }
  if (ancestry.code !== 0) throw gitFailed(['merge-base', '--is-ancestor', revert, onto], ancestry);

  const worktree = await mkdtemp(join(tmpdir(), 'tend-revert-'));
  try {
    await expectSuccess(inGitdir(['worktree', 'add', '--detach', '--quiet', worktree, onto]), ['worktree', 'add', worktree, onto]);
    const mainline = parents.length > 1;
    const reverting = await git(['revert', '--no-commit', ...(mainline ? ['-m', '1'] : []), revert], worktree);
    if (reverting.code !== 0) {
      const paths = await unmergedPaths(git, worktree);
      if (paths.length > 0) throw new RevertConflictError(revert, onto, paths, mainline);
      throw gitFailed(['revert', '--no-commit', revert], reverting);
    }
    const tree = (await expectSuccess(git(['write-tree'], worktree), ['write-tree'])).trim();
    const ontoTree = (await expectSuccess(inGitdir(['rev-parse', '--verify', `${onto}^{tree}`]), ['rev-parse', onto])).trim();
    if (tree === ontoTree) {
      // git itself refuses this revert ("nothing to commit"); an empty commit would only record noise.
      throw new TendError('E_REVERT_EMPTY', 'conflict', `reverting ${revert} onto ${onto} changes nothing: its change is already undone`, {
        hint: 'A later commit already took the change back. If the rollout still fails, the cause is another commit; look at `git log` since the last good deploy.',
      });
    }
    // commit-tree rather than `git commit`: it writes only the object (no ref, no hooks, no reflog) and keeps
    // the message verbatim, with no cleanup pass that could touch the trailers.
    const sha = (await expectSuccess(inGitdir(['commit-tree', tree, '-p', onto, '-F', '-'], options.message), ['commit-tree', tree])).trim();
    return { sha, tree };
  } finally {
    await removeWorktree(gitdir, worktree, env, timeoutMs);
  }
}

type Git = (args: readonly string[], input?: string) => Promise<NativeGitResult>;

function isolatedGitEnv(identity: RevertIdentity, date: Date | undefined): NodeJS.ProcessEnv {
  // A GIT_DIR, GIT_INDEX_FILE or GIT_TEST_* inherited (tend started from a hook, a test runner) would redirect
  // or change every call below.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('GIT_')));
  const when = date === undefined ? {} : { GIT_AUTHOR_DATE: gitDate(date), GIT_COMMITTER_DATE: gitDate(date) };
  return {
    ...inherited,
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_PAGER: 'cat',
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: identity.name,
    GIT_AUTHOR_EMAIL: identity.email,
    GIT_COMMITTER_NAME: identity.name,
    GIT_COMMITTER_EMAIL: identity.email,
    ...when,
  };
}

function gitDate(date: Date): string {
  return `@${Math.floor(date.getTime() / 1000)} +0000`;
}

function checkIdentity(identity: RevertIdentity): void {
  // git strips or rejects these silently in places; a commit under a mangled name is worse than a refusal.
  const bad = (value: string): boolean => value.trim() === '' || /[<>\p{Cc}]/u.test(value);
  if (bad(identity.name) || bad(identity.email)) {
    throw new TendError('E_GIT_IDENTITY', 'invalid', `cannot commit as ${JSON.stringify(identity.name)} <${JSON.stringify(identity.email)}>: a name and an email are needed, without <, > or control characters`, {
      hint: 'Set the identity tend commits its reverts under (git config user.name / user.email for `tend revert`).',
    });
  }
}

async function resolveCommit(git: Git, revision: string): Promise<string> {
  // --end-of-options: a revision from a command line must never be read as an option.
  const result = await git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${revision}^{commit}`]);
  if (result.code === 0) return result.stdout.trim();
  throw new TendError('E_REVERT_UNKNOWN_COMMIT', 'invalid', `${JSON.stringify(revision)} does not name a commit in this repository`, {
    hint: 'Give a commit id from `git log` of the branch (fetch first if it is new).',
  });
}

/** Through rev-list, so that a shallow clone's boundary reads as parentless rather than failing later. */
async function parentsOf(git: Git, commit: string): Promise<string[]> {
  const args = ['rev-list', '--parents', '-n', '1', commit];
  const [, ...parents] = (await expectSuccess(git(args), args)).trim().split(' ');
  return parents;
}

async function unmergedPaths(git: (args: readonly string[], cwd: string) => Promise<NativeGitResult>, worktree: string): Promise<string[]> {
  const listed = await expectSuccess(git(['ls-files', '--unmerged', '-z'], worktree), ['ls-files', '--unmerged']);
  const paths = listed
    .split('\0')
    .filter((entry) => entry !== '')
    .map((entry) => entry.slice(entry.indexOf('\t') + 1));
  return [...new Set(paths)].sort();
}

async function expectSuccess(running: Promise<NativeGitResult>, args: readonly string[]): Promise<string> {
  const result = await running;
  if (result.code !== 0) throw gitFailed(args, result);
  return result.stdout;
}

/**
 * Best effort and never throwing, so that it cannot hide the error that ended the revert: whatever
 * `worktree remove` leaves, the directory is deleted and `prune` forgets it (here, or on the next revert).
 */
async function removeWorktree(gitdir: string, worktree: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<void> {
  const run = (args: readonly string[]): Promise<unknown> =>
    runNativeGit([...PINNED_CONFIG, `--git-dir=${gitdir}`, ...args], { cwd: tmpdir(), env, timeoutMs }).catch(() => undefined);
  await run(['worktree', 'remove', '--force', worktree]);
  await rm(worktree, { recursive: true, force: true }).catch(() => undefined);
  await run(['worktree', 'prune']);
}
