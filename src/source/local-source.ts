import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { watch as watchFiles } from 'chokidar';
import * as git from 'isomorphic-git';

import { InternalError, TendError } from '../errors/index.js';
import { checkBranchName } from './branch-name.js';
import type { DeploySource } from './deploy-source.js';
import { branchMissingError, pushRaceError } from './git-errors.js';
import { gitStore } from './git-store.js';
import { planRefMissingError } from './plan-ref.js';

export interface LocalSourceOptions {
  /** A working repository (its `.git` is used) or a bare repository. */
  readonly path: string;
  readonly branch: string;
}

/**
 * A deploy repo on this machine, read in place: isomorphic-git refuses `file://`, and a clone would only
 * lag behind the repository it copies. `fetch()` resolves the branch; nothing is copied.
 *
 * `push` moves `refs/heads/<branch>` with native `git update-ref <ref> <new> <old>`, which is atomic and
 * fails if the branch is not at `<old>`. When that branch is checked out in a working tree, the working
 * tree and index are not touched (as with a push from elsewhere to a checked-out branch): `git status`
 * there then shows the pushed change (a revert) inverted and staged, and a `git commit -a` would undo
 * it. Point tend at a bare repository, or at a branch nobody has checked out, to avoid that.
 */
export function localSource(options: LocalSourceOptions): DeploySource {
  const description = resolve(options.path);
  const branch = checkBranchName(options.branch);
  const gitdir = localGitdir(description);
  const cache = {};
  const store = gitStore({ gitdir, description, cache });
  const ref = `refs/heads/${branch}`;
  let fetchedHead: string | undefined;

  async function head(): Promise<string> {
    try {
      return await git.resolveRef({ fs, gitdir, ref });
    } catch (error) {
      if (error instanceof git.Errors.NotFoundError) {
        if (!fs.existsSync(join(gitdir, 'HEAD'))) throw notARepository(description, error);
        throw branchMissingError(branch, description, error);
      }
      throw new InternalError(`reading ${ref} of ${description} failed`, error);
    }
  }

  return {
    description,
    branch,
    gitdir,
    ...store,

    async fetch() {
      fetchedHead = await head();
      return fetchedHead;
    },

    async fetchRef(ref) {
      // Nothing to copy: the ref is read where it is, and nothing is written to the repository.
      try {
        if (ref.kind === 'sha') return (await store.commit(ref.sha)).sha;
        const full = await git.expandRef({ fs, gitdir, ref: ref.ref });
        return await git.resolveRef({ fs, gitdir, ref: full });
      } catch (error) {
        if (error instanceof git.Errors.NotFoundError || (error instanceof TendError && error.code === 'E_GIT_COMMIT_MISSING')) {
          throw planRefMissingError(ref.kind === 'sha' ? ref.sha : ref.ref, description, error);
        }
        throw error;
      }
    },

    async push(sha, expectedHead) {
      if (!(await store.isAncestor(expectedHead, sha))) {
        throw new InternalError(`asked to push ${sha} over ${expectedHead}, which it does not descend from`);
      }
      const result = await nativeGit(gitdir, ['update-ref', '-m', 'tend: push', ref, sha, expectedHead]);
      if (result.ok) return;
      if (result.missing) {
        throw new TendError('E_GIT_NATIVE_MISSING', 'conflict', `cannot update ${branch} of ${description}: native git is not installed`, {
          hint: 'Install git on the machine tend runs on (it also writes revert commits with it).',
          cause: result.error,
        });
      }
      const now = await head();
      if (now !== expectedHead) {
        throw pushRaceError(branch, description, `the branch is at ${now}, not at ${expectedHead}`, result.error);
      }
      throw new TendError(
        'E_PUSH_REJECTED',
        'conflict',
        `git update-ref of ${branch} in ${description} failed: ${result.stderr.split('\n')[0] ?? 'no reason given'}`,
        {
          hint: 'Check that the user tend runs as may write the repository (refs/ and logs/), and that no hook refuses the update.',
          cause: result.error,
        },
      );
    },

    watch(onChange) {
      const refsDir = join(gitdir, 'refs');
      const packedRefs = join(gitdir, 'packed-refs');
      // Only refs/ and packed-refs matter; everything else in the git directory (objects, index, logs)
      // changes on every commit and is not even descended into.
      const relevant = (path: string) =>
        path === gitdir || path === packedRefs || path === refsDir || path.startsWith(refsDir + sep);
      const watcher = watchFiles(gitdir, {
        ignoreInitial: true,
        ignored: (path: string) => !relevant(path) || path.endsWith('.lock'),
      });
      let last = fetchedHead;
      let checks = Promise.resolve();
      // Git replaces a ref file with a rename and may pack refs at any time: every event is answered by
      // reading the branch again, and only a different head is reported.
      const check = () => {
        checks = checks.then(async () => {
          const now = await head().catch(() => undefined);
          if (now !== last) {
            last = now;
            onChange();
          }
        });
      };
      watcher.on('all', check);
      // Catches a change made while the watcher was starting.
      watcher.on('ready', check);
      // A watcher error (inotify limit, a directory gone) must not crash the daemon; its poll timer still
      // notices changes to the branch.
      watcher.on('error', () => undefined);
      return async () => {
        await watcher.close();
        await checks;
      };
    },
  };
}

function localGitdir(path: string): string {
  const dotGit = join(path, '.git');
  try {
    if (fs.statSync(dotGit).isDirectory()) return dotGit;
  } catch {
    // No `.git`: a bare repository, or not a repository, which fetch() reports.
  }
  return path;
}

function notARepository(path: string, cause: unknown): TendError {
  const dotGitFile = fs.existsSync(join(path, '.git'));
  return new TendError(
    'E_GIT_LOCAL_REPO',
    'invalid',
    dotGitFile
      ? `${path} is a linked worktree or submodule (its .git is a file); tend reads a repository's own git directory`
      : `${path} is not a git repository (no .git directory, and not a bare repository)`,
    { hint: 'Give the path of the repository itself (a working repository or a bare one).', cause },
  );
}

interface NativeGitResult {
  readonly ok: boolean;
  /** The git binary was not found. */
  readonly missing: boolean;
  readonly stderr: string;
  readonly error: unknown;
}

function nativeGit(gitdir: string, args: readonly string[]): Promise<NativeGitResult> {
  return new Promise((done) => {
    execFile('git', [`--git-dir=${gitdir}`, ...args], { timeout: 30_000 }, (error, _stdout, stderr) => {
      const missing = (error as NodeJS.ErrnoException | null)?.code === 'ENOENT';
      done({ ok: error === null, missing, stderr: stderr.trim(), error });
    });
  });
}
