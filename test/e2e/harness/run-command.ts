import { spawn } from 'node:child_process';
import { pathWithSbin } from '../../support/debian-packages.js';
import { CommandFailedError } from './errors.js';

export interface RunOptions {
  /** Written to stdin, which is then closed. */
  readonly input?: string | Buffer;
  /** Return the result of a non-zero exit instead of throwing. */
  readonly allowFailure?: boolean;
  /** Kill the command (SIGKILL) after this long; the result then has `code: null`. */
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** PATH with the sbin directories where ip, nft and mount live, which vitest, npm and sudo may leave out. */
export const harnessPath = pathWithSbin;

/** Runs one program with an argv (no shell, so nothing needs quoting) and collects its output. */
export function runCommand(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const argv = [file, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: options.env ?? { ...process.env, PATH: harnessPath() },
      cwd: options.cwd,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const timer =
      options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new CommandFailedError(argv, null, error.message, error));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const result = {
        code,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      };
      if (code !== 0 && options.allowFailure !== true) {
        reject(new CommandFailedError(argv, code, result.stderr || result.stdout));
      } else {
        resolve(result);
      }
    });
    // A command that never reads stdin closes it early; that EPIPE is not a failure of the command.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input);
  });
}
