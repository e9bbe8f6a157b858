import { stat } from 'node:fs/promises';
import path from 'node:path';
import { TendError } from '../errors/index.js';
import { createRevertCommit, gitFailed, revertMessage, runNativeGit, type NativeGitResult, type RevertIdentity } from '../rollback/index.js';
import { shortCommit } from '../source/commit-id.js';
import { EXIT_USAGE, type Command, type Terminal } from './command.js';
import { UsageError } from './usage-error.js';

const EXIT_DONE = 0;
/** Local git commands; a push gets longer, it crosses the network. */
const GIT_TIMEOUT_MS = 120_000;
const PUSH_TIMEOUT_MS = 300_000;

/** One file of the revert, as `git diff --numstat` counts it; null counts for a binary file. */
interface ChangedFile {
  readonly path: string;
  /** The path before, when git saw a rename. */
  readonly from: string | undefined;
  readonly added: number | null;
  readonly deleted: number | null;
}

export const revertCommand: Command = {
  name: 'revert',
  usage: 'tend revert [--repo DIR] [--push] [--reason TEXT] [--json] COMMIT',
  description:
    'In a clone with the deploy branch checked out (default: the current directory), writes the commit tend\n' +
    "would write to revert COMMIT on top of the branch head: native `git revert` semantics (the same tree;\n" +
    'a merge is reverted against its first parent) and git\'s message, under your git identity. Then moves the\n' +
    'branch to it with `git merge --ff-only`, which refuses rather than overwrite uncommitted work. With\n' +
    '--push, pushes the branch to its upstream (never forced). A conflict or a revert that would change\n' +
    'nothing is refused: nothing is committed and the branch is left as it was.',
  options: {
    repo: { type: 'string', valueName: 'DIR', description: 'The clone to revert in (default: the current directory).' },
    push: { type: 'boolean', description: 'Push the branch to its upstream remote afterwards (no force).' },
    reason: { type: 'string', valueName: 'TEXT', description: 'A sentence written after git\'s message, saying why.' },
    json: { type: 'boolean', description: 'Print the result as JSON: { ok, commit, reverted, branch, files[], pushed }.' },
  },
  exitCodes: [
    [EXIT_DONE, 'the revert commit is on the branch (and pushed, with --push)'],
    [1, 'refused: a conflict, nothing to revert, an unknown commit, local changes in the way, a rejected push'],
    [EXIT_USAGE, 'usage error (no COMMIT, DIR is not a git clone)'],
  ],
  usageExitCode: EXIT_USAGE,
  maxPositionals: 1,
  async run({ terminal, values, positionals }) {
    const given = positionals[0];
    if (given === undefined) throw new UsageError('name the commit to revert', 'For example `tend revert 4fb1a71`; `git log` lists the commits.');
    const json = values['json'] === true;
    const reason = typeof values['reason'] === 'string' ? values['reason'] : undefined;
    const clone = await openClone(typeof values['repo'] === 'string' ? values['repo'] : undefined, terminal);

    const bad = await clone.commit(given);
    const onto = await clone.resolve('HEAD');
    const identity = await clone.identity();
    const message = revertMessage(bad, reason === undefined ? undefined : { reason });
    const created = await createRevertCommit({ gitdir: clone.gitdir, onto, revert: bad.sha, message, identity });
    await clone.fastForward(created.sha);

    const subject = message.split('\n', 1)[0] ?? '';
    const files = await clone.changedFiles(onto, created.sha);
    if (!json) {
      terminal.out(`Reverted ${shortCommit(bad.sha)} "${bad.subject}" on ${clone.branch}:\n${created.sha} ${subject}\n`);
      terminal.out(await clone.stat(onto, created.sha));
    }
    const pushed = values['push'] === true ? await clone.push(created.sha) : undefined;
    if (json) {
      const result = {
        ok: true,
        commit: { sha: created.sha, tree: created.tree, subject },
        reverted: { sha: bad.sha, subject: bad.subject },
        branch: clone.branch,
        files,
        pushed: pushed ?? null,
      };
      terminal.out(`${JSON.stringify(result, null, 2)}\n`);
    } else if (pushed !== undefined) {
      terminal.out(`Pushed ${clone.branch} to ${pushed.remote} (${pushed.ref}).\n`);
    }
    return EXIT_DONE;
  },
};

interface Clone {
  readonly gitdir: string;
  /** The checked-out branch, as `git branch` shows it. */
  readonly branch: string;
  readonly resolve: (revision: string) => Promise<string>;
  readonly commit: (revision: string) => Promise<{ sha: string; subject: string; parents: string[] }>;
  readonly identity: () => Promise<RevertIdentity>;
  readonly fastForward: (sha: string) => Promise<void>;
  readonly changedFiles: (from: string, to: string) => Promise<ChangedFile[]>;
  readonly stat: (from: string, to: string) => Promise<string>;
  /** Pushes the branch, which the revert `sha` now heads. */
  readonly push: (sha: string) => Promise<{ remote: string; ref: string }>;
}

/** The person's clone, run with their environment and config: their identity, remotes and credentials. */
async function openClone(repo: string | undefined, terminal: Terminal): Promise<Clone> {
  const dir = path.resolve(terminal.cwd, repo ?? '.');
  const info = await stat(dir).catch(() => undefined);
  if (info === undefined || !info.isDirectory()) throw new UsageError(`${repo ?? '.'} is not a directory`, 'Name a clone of the deploy repo with --repo DIR.');
  const git = (args: readonly string[], timeoutMs = GIT_TIMEOUT_MS): Promise<NativeGitResult> => runNativeGit(args, { cwd: dir, env: terminal.env, timeoutMs });
  const output = async (args: readonly string[]): Promise<string> => {
    const result = await git(args);
    if (result.code !== 0) throw gitFailed(args, result);
    return result.stdout;
  };

  const common = await git(['rev-parse', '--path-format=absolute', '--git-common-dir']);
  if (common.code !== 0) throw new UsageError(`${repo ?? '.'} is not inside a git clone`, 'Run tend revert in a clone of the deploy repo, or name one with --repo DIR.');
  if ((await output(['rev-parse', '--is-bare-repository'])).trim() === 'true') {
    throw new UsageError(`${repo ?? '.'} is a bare repository`, 'tend revert moves a checked-out branch; run it in a clone with a working tree.');
  }
  const head = await git(['symbolic-ref', '--quiet', 'HEAD']);
  if (head.code !== 0) {
    throw new TendError('E_REVERT_DETACHED', 'invalid', 'HEAD is detached: there is no branch to put the revert on', {
      hint: 'Check out the deploy branch first (`git switch main`), then run tend revert again.',
    });
  }
  const ref = head.stdout.trim();
  const branch = ref.replace(/^refs\/heads\//, '');

  const resolve = async (revision: string): Promise<string> => {
    // --end-of-options: COMMIT comes from a command line and must never be read as an option.
    const result = await git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${revision}^{commit}`]);
    if (result.code === 0) return result.stdout.trim();
    throw new TendError('E_REVERT_UNKNOWN_COMMIT', 'invalid', `${JSON.stringify(revision)} does not name a commit in ${repo ?? 'this clone'}`, {
      hint: 'Give a commit id from `git log` (run `git fetch` first if someone else made it).',
    });
  };
  const configured = async (key: string): Promise<string | undefined> => {
    const result = await git(['config', '--get', key]);
    const value = result.stdout.trim();
    return result.code === 0 && value !== '' ? value : undefined;
  };

  return {
    gitdir: common.stdout.trim(),
    branch,
    resolve,
    async commit(revision) {
      const sha = await resolve(revision);
      // %B is the raw message: its first line is the subject git's revert quotes (%s would join a paragraph).
      const [parents = '', message = ''] = (await output(['log', '-1', '--no-show-signature', '--format=%P%x00%B', sha])).split('\0');
      return { sha, subject: message.split('\n', 1)[0] ?? '', parents: parents.split(' ').filter((parent) => parent !== '') };
    },
    async identity() {
      const name = await configured('user.name');
      const email = await configured('user.email');
      if (name === undefined || email === undefined) {
        throw new TendError('E_GIT_IDENTITY', 'invalid', `no git identity to commit the revert as: ${name === undefined ? 'user.name' : 'user.email'} is not set`, {
          hint: 'Set it as for any commit: `git config --global user.name "Your Name"` and `git config --global user.email you@example.com`.',
        });
      }
      return { name, email };
    },
    async fastForward(sha) {
      const args = ['merge', '--ff-only', '--quiet', sha];
      const result = await git(args);
      if (result.code === 0) return;
      const said = (result.stderr.trim() || result.stdout.trim()).replace(/\s*\n\s*/g, ' ');
      throw new TendError('E_REVERT_NOT_APPLIED', 'conflict', `the revert commit ${sha} was written, but ${branch} was not moved to it: ${said}`, {
        hint: `Commit or stash your local changes (or pull, if ${branch} moved), then run \`git merge --ff-only ${sha}\` or tend revert again.`,
      });
    },
    async changedFiles(from, to) {
      return parseNumstat(await output(['diff', '--numstat', '-z', '-M', from, to]));
    },
    async stat(from, to) {
      return output(['diff', '--stat', '--no-color', '-M', from, to]);
    },
    async push(sha) {
      const remote = (await configured(`branch.${branch}.remote`)) ?? 'origin';
      const upstream = (await configured(`branch.${branch}.merge`)) ?? ref;
      const args = ['push', '--porcelain', remote, `${ref}:${upstream}`];
      const result = await git(args, PUSH_TIMEOUT_MS);
      if (result.code === 0) return { remote, ref: upstream };
      throw pushError(remote, branch, sha, result);
    },
  };
}

/**
 * A push the server or git refused (someone pushed first, a hook, branch protection) needs a person; any
 * other failure (network, auth) is worth trying again as it is.
 */
function pushError(remote: string, branch: string, sha: string, result: NativeGitResult): TendError {
  // Porcelain: `!<TAB>src:dst<TAB>[rejected] (fetch first)` for each refused ref.
  const refused = result.stdout.split('\n').find((line) => line.startsWith('!'));
  const serverSaid = result.stderr
    .split('\n')
    .filter((line) => line.startsWith('remote: '))
    .map((line) => line.slice('remote: '.length).trim())
    .filter((line) => line !== '');
  const local = `The revert ${sha} is committed on your local ${branch}; nothing was pushed.`;
  if (refused !== undefined) {
    const why = refused.split('\t')[2] ?? 'rejected';
    const detail = serverSaid.length === 0 ? '' : ` (the server said: ${serverSaid.join(' / ')})`;
    return new TendError('E_PUSH_REJECTED', 'conflict', `${remote} refused the push of ${branch}: ${why}${detail}`, {
      hint: `${local} If someone pushed first, \`git pull --rebase\` and \`git push\`; if the server refuses pushes to ${branch} (a hook, branch protection), ask who runs it or open a merge request.`,
    });
  }
  const said = (result.stderr.trim() || result.stdout.trim()).replace(/\s*\n\s*/g, ' / ');
  return new TendError('E_PUSH_FAILED', 'transient', `pushing ${branch} to ${remote} failed: ${said}`, {
    hint: `${local} Check the remote and your credentials, then \`git push\`.`,
  });
}

/** `added TAB deleted TAB path NUL`, or for a rename `added TAB deleted TAB NUL from NUL to NUL`; `-` for binary. */
function parseNumstat(output: string): ChangedFile[] {
  const fields = output.split('\0');
  const files: ChangedFile[] = [];
  const count = (text: string | undefined): number | null => (text === undefined || text === '-' ? null : Number.parseInt(text, 10));
  for (let index = 0; index < fields.length; index += 1) {
    const head = fields[index];
    if (head === undefined || head === '') continue;
    const [added, deleted, ...rest] = head.split('\t');
    const single = rest.join('\t');
    if (single !== '') {
      files.push({ path: single, from: undefined, added: count(added), deleted: count(deleted) });
      continue;
    }
    const from = fields[index + 1] ?? '';
    const to = fields[index + 2] ?? '';
    index += 2;
    files.push({ path: to, from, added: count(added), deleted: count(deleted) });
  }
  return files;
}
