import { execFile } from 'node:child_process';
import { TendError } from '../errors/index.js';

/**
 * The one way tend runs the `git` program: an argv (no shell), a timeout, and the exit code returned rather
 * than thrown, because for git a non-zero exit is often an answer (a conflict, "not an ancestor").
 */

export interface NativeGitOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly timeoutMs: number;
  /** Written to stdin, which is then closed. */
  readonly input?: string;
}

export interface NativeGitResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Enough for any git output tend reads (a stat of a large revert); more is a runaway. */
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

export function runNativeGit(args: readonly string[], options: NativeGitOptions): Promise<NativeGitResult> {
  const command = `git ${args.join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      [...args],
      { cwd: options.cwd, env: options.env, timeout: options.timeoutMs, killSignal: 'SIGKILL', maxBuffer: MAX_OUTPUT_BYTES, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error === null) return resolve({ code: 0, stdout, stderr });
        const failure = error as NodeJS.ErrnoException & { killed?: boolean; code?: number | string | null };
        if (failure.code === 'ENOENT') {
          // Not a tend bug and not worth retrying: the machine lacks git, and a person has to install it.
          return reject(
            new TendError('E_GIT_NOT_FOUND', 'conflict', `cannot run git: ${failure.message}`, {
              cause: error,
              hint: 'tend needs the git program (2.39 or later) on PATH to compute reverts. Install it (`apt-get install git`) and restart tend.',
            }),
          );
        }
        if (failure.killed === true) {
          return reject(
            new TendError('E_GIT_TIMEOUT', 'transient', `\`${command}\` did not finish within ${options.timeoutMs} ms`, {
              cause: error,
              hint: 'A slow disk or a very large repository; tend tries again on the next pass.',
            }),
          );
        }
        if (typeof failure.code === 'number') return resolve({ code: failure.code, stdout, stderr });
        reject(
          new TendError('E_GIT_FAILED', 'conflict', `\`${command}\` failed: ${failure.message}`, {
            cause: error,
            hint: 'git could not be run to the end; the message says why.',
          }),
        );
      },
    );
    // git reads no stdin unless given input; closing it keeps a prompt from waiting forever.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.input);
  });
}

/** A non-zero exit that tend has no specific meaning for, with git's own words. */
export function gitFailed(args: readonly string[], result: NativeGitResult): TendError {
  const said = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-5).join(' / ');
  return new TendError('E_GIT_FAILED', 'conflict', `\`git ${args.join(' ')}\` exited ${result.code}: ${said}`, {
    hint: 'git refused an operation tend expected to work; its message says why (a damaged repository, a full disk, permissions). A person has to look.',
  });
}
