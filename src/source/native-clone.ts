import { spawn } from 'node:child_process';

import { TendError } from '../errors/index.js';
import type { GitCredentials } from './git-credentials.js';
import { classifyNativeFetchFailure } from './git-errors.js';

/**
 * The first fetch of an HTTP source, done by native git. isomorphic-git collects the whole pack in one
 * Buffer and copies it twice (4.4 GiB of RSS for a 1 GB history); `git fetch` streams it to disk through
 * index-pack. Later fetches bring a few commits and stay on isomorphic-git.
 *
 * How the credentials travel: as an `Authorization: Basic` header in `http.extraHeader`, given to this one
 * git process through `GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_0`/`GIT_CONFIG_VALUE_0` in the environment tend
 * builds for it. Not in argv (any user reads it in `ps`), not in a file (an askpass script or an included
 * config would hold the secret on disk, and a crash or SIGKILL leaves it there), not in tend's own
 * `process.env` (every other child would inherit it). A process's environment is readable only by its own
 * user and root, who can read tend's memory anyway, and it is gone when git exits. curl (7.58 and later)
 * drops a custom Authorization header when a redirect leads to another host, port or scheme. No askpass,
 * no credential helper and no prompt: a refused header fails at once, so a wrong password is tried once.
 */

export interface NativeCloneOptions {
  readonly gitdir: string;
  /** The remote configured in the gitdir; its URL carries no credentials. */
  readonly remote: string;
  readonly branch: string;
  readonly trackingRef: string;
  readonly description: string;
  readonly credentials: GitCredentials | undefined;
  /** Longest silence (connect included) before the fetch fails; curl counts in whole seconds. */
  readonly timeoutMs: number;
  /** Longest the whole fetch may take. */
  readonly deadlineMs: number;
}

/** git's stderr beyond this is a runaway; the end is what explains a failure. */
const STDERR_LIMIT = 64 * 1024;

/**
 * Settings that keep the machine's or the repository's configuration out of a fetch or push over HTTP(S):
 * no hooks, no automatic gc or commit-graph, no credential helper that could store the password, no
 * protocol but HTTP(S).
 */
export function nativeRemoteConfig(timeoutMs: number): string[] {
  return [
    'core.hooksPath=/dev/null',
    'gc.auto=0',
    'maintenance.auto=false',
    'fetch.writeCommitGraph=false',
    'credential.helper=',
    'core.askPass=',
    'protocol.allow=never',
    'protocol.http.allow=always',
    'protocol.https.allow=always',
    // Below one byte a second for this long: the server went silent. curl counts in whole seconds.
    'http.lowSpeedLimit=1',
    `http.lowSpeedTime=${Math.max(1, Math.ceil(timeoutMs / 1000))}`,
  ].flatMap((setting) => ['-c', setting]);
}

/** The environment of a fetch's or push's git: tend's own minus anything that could redirect git or prompt. */
export function nativeFetchEnv(credentials: GitCredentials | undefined, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(Object.entries(base).filter(([name]) => !name.startsWith('GIT_') && name !== 'SSH_ASKPASS'));
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
  };
  if (credentials !== undefined) {
    const basic = Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64');
    env['GIT_CONFIG_COUNT'] = '1';
    env['GIT_CONFIG_KEY_0'] = 'http.extraHeader';
    env['GIT_CONFIG_VALUE_0'] = `Authorization: Basic ${basic}`;
  }
  return env;
}

/** Fetches the branch into `trackingRef` with native git. Errors are the codes isomorphic-git's fetch gives. */
export async function nativeFirstFetch(options: NativeCloneOptions): Promise<void> {
  const args = [
    ...nativeRemoteConfig(options.timeoutMs),
    `--git-dir=${options.gitdir}`,
    'fetch',
    '--quiet',
    '--no-tags',
    '--no-write-fetch-head',
    options.remote,
    `+refs/heads/${options.branch}:${options.trackingRef}`,
  ];
  const op = { description: options.description, branch: options.branch, action: 'fetch' as const, authRefused: false, hasCredentials: options.credentials !== undefined };
  const outcome = await runGitFetch(args, nativeFetchEnv(options.credentials), options.deadlineMs);
  if (outcome.kind === 'timeout') {
    throw new TendError('E_GIT_TIMEOUT', 'transient', `fetch of ${options.branch} from ${options.description} did not finish within ${seconds(options.deadlineMs)}`, {
      hint: 'tend retries with backoff. Check that the git server is up and reachable from this machine; a very large history may need a longer deadline.',
    });
  }
  if (outcome.code !== 0) throw classifyNativeFetchFailure(outcome.stderr, op);
}

type FetchOutcome = { readonly kind: 'exited'; readonly code: number; readonly stderr: string } | { readonly kind: 'timeout' };

function runGitFetch(args: readonly string[], env: NodeJS.ProcessEnv, deadlineMs: number): Promise<FetchOutcome> {
  return new Promise((resolve, reject) => {
    // A process group of its own: git runs git-remote-https and index-pack, and a deadline must end them all,
    // or an orphaned remote helper would keep the connection open.
    const child = spawn('git', [...args], { env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, deadlineMs);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_LIMIT);
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(deadline);
      if (error.code === 'ENOENT') {
        reject(
          new TendError('E_GIT_NOT_FOUND', 'conflict', `cannot run git: ${error.message}`, {
            cause: error,
            hint: 'tend needs the git program (2.39 or later) on PATH for its first clone and for reverts. Install it (`apt-get install git`) and restart tend.',
          }),
        );
      } else reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(deadline);
      if (timedOut) return resolve({ kind: 'timeout' });
      resolve({ kind: 'exited', code: code ?? (signal === null ? 1 : 128), stderr });
    });
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
