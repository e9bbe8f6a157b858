import { readFile } from 'node:fs/promises';
import { inspect } from 'node:util';
import type { AuthCallback, AuthFailureCallback } from 'isomorphic-git';

import { TendError } from '../errors/index.js';

/**
 * The username sent with a bare token. GitHub requires it for app installation tokens and accepts it
 * with personal access tokens; GitLab and Gitea accept a token as the password of any non-empty
 * username. A server that wants a particular username gets `username:token` in the file instead.
 */
export const TOKEN_USERNAME = 'x-access-token';

/**
 * Credentials for the git server. They print as `[redacted]` through JSON (pino) and `util.inspect`,
 * so an options object logged by mistake does not leak them.
 */
export class GitCredentials {
  readonly username: string;
  readonly #password: string;

  constructor(username: string, password: string) {
    this.username = username;
    this.#password = password;
  }

  get password(): string {
    return this.#password;
  }

  toJSON(): { username: string; password: string } {
    return { username: this.username, password: '[redacted]' };
  }

  [inspect.custom](): string {
    return `GitCredentials { username: ${JSON.stringify(this.username)}, password: [redacted] }`;
  }
}

const FILE_HINT =
  'Write either `username:password` or a single token on one line (a token is sent as the password of ' +
  `username ${TOKEN_USERNAME}), readable only by the user tend runs as (chmod 600).`;

/**
 * Reads credentials from a file: one line, `username:password` (split at the first colon), or a token
 * alone. Nothing of the file's content ever appears in an error.
 */
export async function readCredentialsFile(path: string): Promise<GitCredentials> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new TendError('E_GIT_CREDENTIALS', 'invalid', `cannot read the git credentials file ${path}: ${String(code ?? 'read failed')}`, {
      hint: `Check the path and that the user tend runs as can read it. ${FILE_HINT}`,
      cause: error,
    });
  }
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  const line = lines[0]?.trim();
  if (line === undefined || lines.length > 1) {
    const what = line === undefined ? 'is empty' : `has ${lines.length} lines, expected one`;
    throw new TendError('E_GIT_CREDENTIALS', 'invalid', `the git credentials file ${path} ${what}`, { hint: FILE_HINT });
  }
  const colon = line.indexOf(':');
  if (colon < 0) return new GitCredentials(TOKEN_USERNAME, line);
  const username = line.slice(0, colon);
  const password = line.slice(colon + 1);
  if (username === '' || password === '') {
    throw new TendError(
      'E_GIT_CREDENTIALS',
      'invalid',
      `the git credentials file ${path} has an empty ${username === '' ? 'username' : 'password'} around its colon`,
      { hint: FILE_HINT },
    );
  }
  return new GitCredentials(username, password);
}

/**
 * Credentials from the environment: `TEND_GIT_TOKEN` (sent as the password of `x-access-token`), or
 * `TEND_GIT_USERNAME` with `TEND_GIT_PASSWORD`. Undefined when none is set; a half or ambiguous setting
 * is refused rather than guessed.
 */
export function credentialsFromEnvironment(env: NodeJS.ProcessEnv = process.env): GitCredentials | undefined {
  const token = nonEmpty(env['TEND_GIT_TOKEN']);
  const username = nonEmpty(env['TEND_GIT_USERNAME']);
  const password = nonEmpty(env['TEND_GIT_PASSWORD']);
  const hint = 'Set either TEND_GIT_TOKEN, or both TEND_GIT_USERNAME and TEND_GIT_PASSWORD.';
  if (token !== undefined) {
    if (password !== undefined) {
      throw new TendError('E_GIT_CREDENTIALS', 'invalid', 'both TEND_GIT_TOKEN and TEND_GIT_PASSWORD are set', { hint });
    }
    return new GitCredentials(username ?? TOKEN_USERNAME, token);
  }
  if (username === undefined && password === undefined) return undefined;
  if (username === undefined || password === undefined) {
    const missing = username === undefined ? 'TEND_GIT_USERNAME' : 'TEND_GIT_PASSWORD';
    throw new TendError('E_GIT_CREDENTIALS', 'invalid', `${missing} is not set, but its partner is`, { hint });
  }
  return new GitCredentials(username, password);
}

/**
 * The credentials tend uses: the file when one is configured (the environment is then ignored, so a
 * stray variable cannot override it), otherwise the environment, otherwise none.
 */
export async function loadGitCredentials(options: { file?: string; env?: NodeJS.ProcessEnv }): Promise<GitCredentials | undefined> {
  if (options.file !== undefined) return readCredentialsFile(options.file);
  return credentialsFromEnvironment(options.env ?? process.env);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Checks a repository URL before it is used: smart HTTP(S) only, and no credentials in it (a URL is
 * logged, shown in status and stored in git config; credentials belong in the credentials file).
 * Returns the URL as safe to show. The refused URL itself is never echoed, since it holds a secret.
 */
export function checkRepositoryUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // No `cause`: Node's invalid-URL error keeps the input, which may hold a password.
    throw new TendError('E_GIT_URL', 'invalid', 'the git repository URL is not a valid URL', {
      hint: 'Give the full clone URL, for example https://git.example.com/ops/deploy.git.',
    });
  }
  // The scheme first: `ssh://git@host/...` carries a user by convention, and the answer is "use HTTPS".
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new TendError('E_GIT_URL', 'invalid', `the git repository URL uses ${parsed.protocol}, tend speaks smart HTTP(S) only`, {
      hint: 'Use the https:// clone URL of the repository, or a local path for a repository on this machine.',
    });
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new TendError(
      'E_GIT_URL_CREDENTIALS',
      'invalid',
      `the git repository URL ${parsed.protocol}//<credentials>@${parsed.host}${parsed.pathname} has credentials in it; refused`,
      {
        hint:
          'Remove the `user:password@` part from the URL and put the credentials in the git credentials file ' +
          '(or TEND_GIT_TOKEN / TEND_GIT_USERNAME + TEND_GIT_PASSWORD). Change that password if the URL was shared.',
      },
    );
  }
  return `${parsed.origin}${parsed.pathname}`;
}

export interface AuthHandlers {
  readonly onAuth: AuthCallback | undefined;
  readonly onAuthFailure: AuthFailureCallback;
  /** Whether the server refused the credentials during the last operation. */
  readonly refused: () => boolean;
}

/**
 * isomorphic-git asks `onAuth` after the first 401 and `onAuthFailure` after every later one. Giving up
 * at the first refusal is deliberate: retrying a wrong password on a timer locks accounts, so a refusal
 * is a conflict for a person, not something to retry. A fresh set of handlers per operation.
 */
export function authHandlers(credentials: GitCredentials | undefined): AuthHandlers {
  let refused = false;
  return {
    onAuth: credentials === undefined ? undefined : () => ({ username: credentials.username, password: credentials.password }),
    onAuthFailure: () => {
      refused = true;
      return { cancel: true };
    },
    refused: () => refused,
  };
}
