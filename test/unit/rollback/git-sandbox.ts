import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * Native git for the rollback tests, run the way a person with a clean config would: no system or global
 * config, a fixed identity and date (so commit ids are reproducible), no shell.
 */

export const TEST_IDENTITY = { name: 'Tend Test', email: 'test@tend.invalid' } as const;
export const FIXED_DATE = new Date('2026-03-04T05:06:07Z');

export function testGitEnv(date: Date = FIXED_DATE): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('GIT_')));
  const when = `@${Math.floor(date.getTime() / 1000)} +0000`;
  return {
    ...inherited,
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: TEST_IDENTITY.name,
    GIT_AUTHOR_EMAIL: TEST_IDENTITY.email,
    GIT_COMMITTER_NAME: TEST_IDENTITY.name,
    GIT_COMMITTER_EMAIL: TEST_IDENTITY.email,
    GIT_AUTHOR_DATE: when,
    GIT_COMMITTER_DATE: when,
  };
}

export interface GitRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function git(cwd: string, args: readonly string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<GitRun> {
  return new Promise((resolve, reject) => {
    const child = execFile('git', [...args], { cwd, env: options.env ?? testGitEnv(), maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error === null) return resolve({ code: 0, stdout, stderr });
      if (typeof error.code === 'number') return resolve({ code: error.code, stdout, stderr });
      reject(error);
    });
    child.stdin?.end(options.input);
  });
}

/** Git that must succeed; its stdout, trimmed. */
export async function gitOk(cwd: string, args: readonly string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const run = await git(cwd, args, options);
  if (run.code !== 0) throw new Error(`git ${args.join(' ')} exited ${run.code}: ${run.stderr}${run.stdout}`);
  return run.stdout.trim();
}

/** Temporary directories, removed by `cleanup()` in afterAll. */
export class Scratch {
  private readonly dirs: string[] = [];

  async dir(prefix = 'tend-rollback-test-'): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  }
}

export async function initRepo(dir: string): Promise<void> {
  await gitOk(dir, ['init', '--quiet', '--initial-branch=main']);
}

/** Writes (or, for null, deletes) files, stages everything and commits; returns the commit id. */
export async function commitFiles(dir: string, files: Readonly<Record<string, string | null>>, message: string): Promise<string> {
  for (const [path, content] of Object.entries(files)) {
    const file = join(dir, path);
    if (content === null) {
      await rm(file, { force: true });
    } else {
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, content);
    }
  }
  await gitOk(dir, ['add', '--all']);
  await gitOk(dir, ['commit', '--quiet', '--allow-empty', '--cleanup=verbatim', '-m', message]);
  return gitOk(dir, ['rev-parse', 'HEAD']);
}

/** The message of a commit, exactly as stored (everything after the header's blank line). */
export async function rawMessage(dir: string, commit: string): Promise<string> {
  const raw = (await git(dir, ['cat-file', 'commit', commit])).stdout;
  return raw.slice(raw.indexOf('\n\n') + 2);
}

/** Every ref with its value, HEAD included, to prove that nothing moved. */
export async function refSnapshot(gitdir: string): Promise<string> {
  const refs = await gitOk(gitdir, ['--git-dir=.', 'for-each-ref', '--format=%(refname) %(objectname)']);
  const head = await gitOk(gitdir, ['--git-dir=.', 'symbolic-ref', 'HEAD']);
  return `HEAD -> ${head}\n${refs}`;
}

/** Worktrees the gitdir knows about besides its own. */
export async function linkedWorktrees(gitdir: string): Promise<string[]> {
  const listed = await gitOk(gitdir, ['--git-dir=.', 'worktree', 'list', '--porcelain']);
  return listed
    .split('\n')
    .filter((line) => line.startsWith('worktree '))
    .slice(1);
}
