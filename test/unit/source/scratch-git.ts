import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { runCommand } from '../../e2e/harness/run-command.js';

/** A fixed identity and no user or system config, so commits come out the same on every machine. */
export const GIT_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Ada Author',
  GIT_AUTHOR_EMAIL: 'ada@tend.invalid',
  GIT_COMMITTER_NAME: 'Ada Author',
  GIT_COMMITTER_EMAIL: 'ada@tend.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

/** Native git, as a person or another module of tend runs it. */
export async function nativeGit(cwd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const result = await runCommand('git', args, { cwd, env: { ...GIT_ENV, ...env } });
  return result.stdout.trim();
}

export async function scratchDir(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `tend-source-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** A working repository on `main` with no commits. */
export async function initRepo(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await nativeGit(dir, ['init', '--quiet', '--initial-branch=main']);
}

/**
 * Writes files (path -> content, `null` deletes) and commits them with native git; returns the sha.
 * `date` sets author and committer time (seconds), so history order does not depend on the clock.
 */
export async function commitFiles(
  dir: string,
  files: Readonly<Record<string, string | null>>,
  message: string,
  date?: number,
): Promise<string> {
  for (const [path, content] of Object.entries(files)) {
    if (content === null) {
      await nativeGit(dir, ['rm', '--quiet', '-r', path]);
    } else {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), content);
      await nativeGit(dir, ['add', path]);
    }
  }
  const env = date === undefined ? {} : { GIT_AUTHOR_DATE: `@${date} +0000`, GIT_COMMITTER_DATE: `@${date} +0000` };
  await nativeGit(dir, ['commit', '--quiet', '--allow-empty', '-m', message], env);
  return nativeGit(dir, ['rev-parse', 'HEAD']);
}
