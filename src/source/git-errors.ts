import { Errors } from 'isomorphic-git';

import { InternalError, TendError } from '../errors/index.js';

/**
 * Classification of what isomorphic-git throws into tend's taxonomy, at the edge where it happens.
 * Matched on isomorphic-git's error classes and HTTP status codes, never on translated messages (except
 * receive-pack's per-ref status, which is the only thing the protocol gives). Messages name the
 * repository by its description, which never carries credentials, and never quote a library message
 * that could echo a request.
 */

export interface GitOperation {
  /** Safe to show: the URL without credentials, or the local path. */
  readonly description: string;
  readonly branch: string;
  readonly action: 'fetch' | 'push';
  /** The server refused the credentials (our onAuthFailure gave up). */
  readonly authRefused: boolean;
  readonly hasCredentials: boolean;
}

const AUTH_HINT_WITH =
  'The server refused the configured credentials. Fix the credentials file (or TEND_GIT_* variables) and ' +
  'restart; tend does not retry a refused password, so an account is not locked by repeated attempts.';
const AUTH_HINT_WITHOUT =
  'The server asks for credentials and none are configured. Give tend a credentials file (username:password, ' +
  'or a token) or set TEND_GIT_TOKEN.';

export function classifyGitError(error: unknown, op: GitOperation): TendError {
  if (error instanceof TendError) return error;
  const where = `${op.action} of ${op.branch} from ${op.description}`;
  if (error instanceof Errors.UserCanceledError && op.authRefused) return authError(op, where, error);
  if (error instanceof Errors.HttpError) {
    const status = error.data.statusCode;
    if (status === 401) return authError(op, where, error);
    if (status === 403) {
      if (op.action === 'push') {
        return new TendError('E_PUSH_REJECTED', 'conflict', `${where}: the server refused the push (HTTP 403)`, {
          hint: 'The credentials may read but not write this repository. Grant tend write access to the branch.',
          cause: error,
        });
      }
      return authError(op, where, error);
    }
    if (status === 404) {
      return new TendError('E_GIT_REPO_MISSING', 'conflict', `${where}: no repository at this URL (HTTP 404)`, {
        hint: 'Check the repository URL. Some servers answer 404 instead of 401 when the credentials may not see the repository.',
        cause: error,
      });
    }
    if (status >= 500 || status === 429 || status === 408) {
      return new TendError('E_GIT_SERVER', 'transient', `${where}: the git server answered HTTP ${status} ${error.data.statusMessage}`.trimEnd(), {
        hint: 'tend retries with backoff. If it persists, check the git server.',
        cause: error,
      });
    }
    return new TendError('E_GIT_HTTP', 'conflict', `${where}: the git server answered HTTP ${status} ${error.data.statusMessage}`.trimEnd(), {
      hint: 'Check the repository URL and that the server speaks git smart HTTP there.',
      cause: error,
    });
  }
  if (error instanceof Errors.SmartHttpError) {
    return new TendError('E_GIT_HTTP', 'conflict', `${where}: the URL does not answer as a git smart-HTTP server`, {
      hint: 'Check the repository URL: it should be the clone URL (often ending in .git), not a web page.',
      cause: error,
    });
  }
  return new InternalError(`${where} failed unexpectedly: ${describe(error)}`, error);
}

function authError(op: GitOperation, where: string, cause: unknown): TendError {
  return new TendError('E_GIT_AUTH', 'conflict', `${where}: the git server refused authentication`, {
    hint: op.hasCredentials ? AUTH_HINT_WITH : AUTH_HINT_WITHOUT,
    cause,
  });
}

function describe(error: unknown): string {
  if (error instanceof Error) return 'code' in error && typeof error.code === 'string' ? error.code : error.name;
  return typeof error;
}

export function branchMissingError(branch: string, description: string, cause?: unknown): TendError {
  return new TendError('E_GIT_BRANCH_MISSING', 'conflict', `branch ${branch} does not exist in ${description}`, {
    hint: `Check the branch name in the tend configuration, or push a first commit to ${branch}.`,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Someone else updated the branch first: the caller fetches, recomputes and may try again. */
export function pushRaceError(branch: string, description: string, detail: string, cause?: unknown): TendError {
  return new TendError('E_PUSH_RACE', 'transient', `push to ${branch} of ${description} lost a race: ${detail}`, {
    hint: 'Another commit landed first. tend fetches the branch again and decides anew; nothing to do unless this repeats.',
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * What native git's stderr says about a failed fetch, in the codes isomorphic-git's fetch gets, so the first
 * clone and every later fetch fail alike. git runs with LC_ALL=C, so its messages are matched in English;
 * they name the URL tend configured, which never carries credentials, and git never prints headers.
 */
export function classifyNativeFetchFailure(stderr: string, op: GitOperation): TendError {
  const where = `${op.action} of ${op.branch} from ${op.description}`;
  const said = stderr.trim().split('\n').slice(-3).join(' / ');
  const status = /returned error: (\d{3})/.exec(stderr)?.[1];
  if (/could not read (Username|Password)|Authentication failed|terminal prompts disabled/.test(stderr) || status === '401' || status === '403') {
    return authError(op, where, new Error(said));
  }
  if (/couldn't find remote ref/.test(stderr)) return branchMissingError(op.branch, op.description);
  if (/repository '.*' not found/.test(stderr) || status === '404') {
    return new TendError('E_GIT_REPO_MISSING', 'conflict', `${where}: no repository at this URL (HTTP 404)`, {
      hint: 'Check the repository URL. Some servers answer 404 instead of 401 when the credentials may not see the repository.',
    });
  }
  if (status !== undefined && (Number(status) >= 500 || status === '429' || status === '408')) {
    return new TendError('E_GIT_SERVER', 'transient', `${where}: the git server answered HTTP ${status}`, {
      hint: 'tend retries with backoff. If it persists, check the git server.',
    });
  }
  if (/Operation too slow|timed out|curl 28/.test(stderr)) {
    return new TendError('E_GIT_TIMEOUT', 'transient', `${where}: the git server went silent (${said})`, {
      hint:
        'tend retries with backoff. Check that the git server is up and reachable from this machine; a proxy or ' +
        'firewall that accepts connections and drops them looks like this.',
    });
  }
  if (/Could not resolve|Failed to connect|Couldn't connect|Connection refused|Connection reset|Recv failure|SSL|TLS|Empty reply|early EOF|unexpected disconnect/i.test(stderr)) {
    return new TendError('E_GIT_UNREACHABLE', 'transient', `${where} failed: ${said}`, {
      hint: 'tend retries with backoff. Check the URL, DNS, and that the git server is up and reachable from this machine.',
    });
  }
  if (status !== undefined || /not valid: is this a git repository|dumb http transport/.test(stderr)) {
    return new TendError('E_GIT_HTTP', 'conflict', `${where}: the URL does not answer as a git smart-HTTP server (${said})`, {
      hint: 'Check the repository URL: it should be the clone URL (often ending in .git), not a web page.',
    });
  }
  return new TendError('E_GIT_FAILED', 'conflict', `${where}: git failed: ${said}`, {
    hint: 'git refused an operation tend expected to work; its message says why (a full disk, permissions, a damaged repository). A person has to look.',
  });
}
