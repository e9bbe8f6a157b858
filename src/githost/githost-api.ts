import { TendError } from '../errors/index.js';
import type { CommitStatus } from './commit-status.js';

/** GitHub's REST API and Gitea's, which mirrors it for statuses and issue comments. */
export type GitHostProvider = 'github' | 'gitea';

export interface GitHostApiOptions {
  readonly provider: GitHostProvider;
  /** `https://api.github.com`, or a Gitea's `https://gitea.example.com/api/v1`. */
  readonly apiUrl: string;
  /** Never logged, never put in an error: only the Authorization header carries it. */
  readonly token: string;
  /** `owner/name` of the deploy repository on the git host. */
  readonly repository: string;
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

/**
 * The calls tend makes to a git host, each one request (or, to find tend's comment, a few) with a timeout.
 * Errors: E_GITHOST_UNREACHABLE (transient), E_GITHOST_HTTP (transient for 5xx, 408 and 429, with the
 * server's Retry-After in `retryAfterMs`; conflict for the rest: a bad token, a missing repository).
 */
export interface GitHostApi {
  /** `POST /repos/{owner}/{repo}/statuses/{sha}`. */
  setStatus(status: CommitStatus, targetUrl: string | undefined): Promise<void>;
  /**
   * The pull request's comment holding `marker`, updated in place (`PATCH /repos/{o}/{r}/issues/comments/{id}`),
   * or created when there is none (`POST /repos/{o}/{r}/issues/{n}/comments`).
   */
  upsertComment(pullRequest: number, marker: string, body: string): Promise<'created' | 'updated'>;
}

/** A refused call; `retryAfterMs` is the server's Retry-After, when it sent one. */
export class GitHostCallError extends TendError {
  constructor(
    message: string,
    retryable: boolean,
    readonly retryAfterMs: number | undefined,
    code: 'E_GITHOST_HTTP' | 'E_GITHOST_UNREACHABLE',
  ) {
    super(code, retryable ? 'transient' : 'conflict', message, {
      hint: retryable
        ? 'tend retries within its budget. Check that the git host API is up and reachable from this machine.'
        : 'Check githost.api_url, githost.repository and that the token may write statuses and comments there.',
    });
  }
}

const PAGES = 10;

export function gitHostApi(options: GitHostApiOptions): GitHostApi {
  const base = options.apiUrl.replace(/\/+$/, '');
  const send = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const repo = options.repository.split('/').map(encodeURIComponent).join('/');
  // GitHub takes `Bearer` and `token`; Gitea documents `token` for access tokens.
  const authorization = `${options.provider === 'github' ? 'Bearer' : 'token'} ${options.token}`;
  const comments = new Map<number, number>();

  async function call(method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown): Promise<unknown> {
    const what = `${method} ${path.replace(/\?.*$/, '')}`;
    let response: Response;
    try {
      response = await send(`${base}${path}`, {
        method,
        headers: {
          authorization,
          accept: 'application/vnd.github+json, application/json',
          'content-type': 'application/json; charset=utf-8',
          'user-agent': 'tend',
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'error',
      });
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error && 'code' in error.cause ? String(error.cause.code) : error instanceof Error ? error.name : 'error';
      throw new GitHostCallError(`${what} to the git host failed: ${cause}`, true, undefined, 'E_GITHOST_UNREACHABLE');
    }
    const text = await response.text();
    if (response.ok) return text === '' ? undefined : (JSON.parse(text) as unknown);
    const retryable = response.status >= 500 || response.status === 408 || response.status === 429;
    const after = response.headers.get('retry-after');
    const retryAfterMs = after !== null && /^\d+$/.test(after.trim()) ? Number(after.trim()) * 1000 : undefined;
    throw new GitHostCallError(`${what} answered HTTP ${response.status}`, retryable, retryAfterMs, 'E_GITHOST_HTTP');
  }

  async function findComment(pullRequest: number, marker: string): Promise<number | undefined> {
    for (let page = 1; page <= PAGES; page += 1) {
      const listed = await call('GET', `/repos/${repo}/issues/${pullRequest}/comments?per_page=100&limit=100&page=${page}`);
      if (!Array.isArray(listed) || listed.length === 0) return undefined;
      for (const comment of listed as { id?: unknown; body?: unknown }[]) {
        if (typeof comment.body === 'string' && comment.body.includes(marker) && typeof comment.id === 'number') return comment.id;
      }
    }
    return undefined;
  }

  return {
    async setStatus(status, targetUrl) {
      await call('POST', `/repos/${repo}/statuses/${status.sha}`, {
        state: status.state,
        context: status.context,
        description: status.description,
        ...(targetUrl === undefined ? {} : { target_url: targetUrl }),
      });
    },

    async upsertComment(pullRequest, marker, body) {
      const known = comments.get(pullRequest) ?? (await findComment(pullRequest, marker));
      if (known !== undefined) {
        try {
          await call('PATCH', `/repos/${repo}/issues/comments/${known}`, { body });
          comments.set(pullRequest, known);
          return 'updated';
        } catch (error) {
          // Someone deleted tend's comment: write a new one below.
          if (!(error instanceof GitHostCallError && error.message.endsWith('HTTP 404'))) throw error;
          comments.delete(pullRequest);
        }
      }
      const created = (await call('POST', `/repos/${repo}/issues/${pullRequest}/comments`, { body })) as { id?: unknown } | undefined;
      if (typeof created?.id === 'number') comments.set(pullRequest, created.id);
      return 'created';
    },
  };
}
