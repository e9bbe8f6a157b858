import { runCommand, type RunResult } from '../../test/e2e/harness/run-command.js';

/** Native git as an operator's script runs it: no user or system config, and never a prompt. */
export const NATIVE_GIT_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0',
};

/**
 * Runs one native git command and returns its whole-process wall time in ms, spawn to exit, measured
 * here rather than by `/usr/bin/time` (whose report counts in hundredths of a second, too coarse for an
 * idle fetch). Throws with git's stderr when it fails, so a broken run is never timed as a fast one.
 */
export async function timedGit(args: readonly string[], cwd?: string): Promise<number> {
  const started = performance.now();
  const { code, stdout, stderr } = await runGit(args, cwd);
  const wallMs = performance.now() - started;
  if (code !== 0) throw new Error(`git ${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}${stdout.slice(-2000)}`);
  return wallMs;
}

/** Runs native git and returns what it printed, trimmed; throws when it fails. */
export async function nativeGit(args: readonly string[], cwd?: string): Promise<string> {
  const { code, stdout, stderr } = await runGit(args, cwd);
  if (code !== 0) throw new Error(`git ${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`);
  return stdout.trim();
}

function runGit(args: readonly string[], cwd: string | undefined): Promise<RunResult> {
  return runCommand('git', args, { cwd, env: NATIVE_GIT_ENV, allowFailure: true });
}
