import { TendError } from '../errors/index.js';
import type { CommitStatus } from './commit-status.js';

/** GitHub's REST API, Gitea's (which mirrors it for statuses and issue comments) and GitLab's REST API v4. */
export type GitHostProvider = 'github' | 'gitea' | 'gitlab';

export interface GitHostApiOptions {
  readonly provider: GitHostProvider;
  /** `https://api.github.com`, a Gitea's `https://gitea.example.com/api/v1`, or `https://gitlab.com/api/v4`. */
  readonly apiUrl: string;
  /** Never logged, never put in an error: only the Authorization (GitLab: PRIVATE-TOKEN) header carries it. */
  readonly token: string;
  /** `owner/name` of the deploy repository on the git host (GitLab: the project's `group/project` path). */
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
  /** GitHub, Gitea: `POST /repos/{owner}/{repo}/statuses/{sha}`; GitLab: `POST /projects/{id}/statuses/{sha}`. */
  setStatus(status: CommitStatus, targetUrl: string | undefined): Promise<void>;
  /**
   * The pull request's comment holding `marker`, updated in place, or created when there is none. GitHub,
   * Gitea: `PATCH /repos/{o}/{r}/issues/comments/{id}`, `POST /repos/{o}/{r}/issues/{n}/comments`; GitLab,
   * a merge request note: `PUT /projects/{id}/merge_requests/{iid}/notes/{note_id}`, `POST .../notes`.
   */
  upsertComment(pullRequest: number, marker: string, body: string): Promise<'created' | 'updated'>;
}

/** Where each call goes on one provider's API, and how it is authenticated. */
interface Endpoints {
  readonly headers: Readonly<Record<string, string>>;
  status(status: CommitStatus, targetUrl: string | undefined): { readonly path: string; readonly body: Record<string, string> };
  listComments(pullRequest: number, page: number): string;
  createComment(pullRequest: number): string;
  updateComment(pullRequest: number, id: number): { readonly method: 'PATCH' | 'PUT'; readonly path: string };
  /** A refused status that the commit already has, so nothing is left to publish. */
  alreadySo(status: CommitStatus, refusal: GitHostCallError): boolean;
}

/** GitLab's commit status states: it has no `failure` or `error`, only `failed`. */
const GITLAB_STATES: Readonly<Record<CommitStatus['state'], string>> = { pending: 'pending', success: 'success', failure: 'failed', error: 'failed' };

function endpointsOf(provider: GitHostProvider, repository: string, token: string): Endpoints {
  if (provider === 'gitlab') {
    // GitLab takes a project's path in place of its numeric id, URL-encoded as one segment (group%2Fproject).
    const project = `/projects/${encodeURIComponent(repository)}`;
    return {
      headers: { 'private-token': token, accept: 'application/json' },
      status: (status, targetUrl) => ({
        path: `${project}/statuses/${status.sha}`,
        body: { state: GITLAB_STATES[status.state], name: status.context, description: status.description, ...(targetUrl === undefined ? {} : { target_url: targetUrl }) },
      }),
      listComments: (mergeRequest, page) => `${project}/merge_requests/${mergeRequest}/notes?per_page=100&page=${page}&sort=asc&order_by=created_at`,
      createComment: (mergeRequest) => `${project}/merge_requests/${mergeRequest}/notes`,
      updateComment: (mergeRequest, id) => ({ method: 'PUT', path: `${project}/merge_requests/${mergeRequest}/notes/${id}` }),
      // GitLab's statuses are a state machine that refuses pending over pending (HTTP 400 "Cannot transition
      // status via :enqueue from :pending"), where GitHub takes it as a no-op: two deliveries of one head.
      alreadySo: (status, refusal) => status.state === 'pending' && refusal.message.endsWith('HTTP 400') && refusal.answer.includes('Cannot transition status via :enqueue from :pending'),
    };
  }
  const repo = `/repos/${repository.split('/').map(encodeURIComponent).join('/')}`;
  return {
    // GitHub takes `Bearer` and `token`; Gitea documents `token` for access tokens.
    headers: { authorization: `${provider === 'github' ? 'Bearer' : 'token'} ${token}`, accept: 'application/vnd.github+json, application/json' },
    status: (status, targetUrl) => ({
      path: `${repo}/statuses/${status.sha}`,
      body: { state: status.state, context: status.context, description: status.description, ...(targetUrl === undefined ? {} : { target_url: targetUrl }) },
    }),
    listComments: (pullRequest, page) => `${repo}/issues/${pullRequest}/comments?per_page=100&limit=100&page=${page}`,
    createComment: (pullRequest) => `${repo}/issues/${pullRequest}/comments`,
    updateComment: (_pullRequest, id) => ({ method: 'PATCH', path: `${repo}/issues/comments/${id}` }),
    alreadySo: () => false,
  };
}

/** A refused call; `retryAfterMs` is the server's Retry-After, when it sent one. */
export class GitHostCallError extends TendError {
  constructor(
    message: string,
    retryable: boolean,
    readonly retryAfterMs: number | undefined,
    code: 'E_GITHOST_HTTP' | 'E_GITHOST_UNREACHABLE',
    /** The start of the server's answer, for tend to recognise a refusal by; never logged. */
    readonly answer = '',
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
  const endpoints = endpointsOf(options.provider, options.repository, options.token);
  const comments = new Map<number, number>();

  async function call(method: 'GET' | 'POST' | 'PATCH' | 'PUT', path: string, body?: unknown): Promise<unknown> {
    const what = `${method} ${path.replace(/\?.*$/, '')}`;
    let response: Response;
    try {
      response = await send(`${base}${path}`, {
        method,
        headers: {
          ...endpoints.headers,
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
    throw new GitHostCallError(`${what} answered HTTP ${response.status}`, retryable, retryAfterMs, 'E_GITHOST_HTTP', text.slice(0, 1_000));
  }

  async function findComment(pullRequest: number, marker: string): Promise<number | undefined> {
    for (let page = 1; page <= PAGES; page += 1) {
      const listed = await call('GET', endpoints.listComments(pullRequest, page));
      if (!Array.isArray(listed) || listed.length === 0) return undefined;
      for (const comment of listed as { id?: unknown; body?: unknown }[]) {
        if (typeof comment.body === 'string' && comment.body.includes(marker) && typeof comment.id === 'number') return comment.id;
      }
    }
    return undefined;
  }

  return {
    async setStatus(status, targetUrl) {
      const { path, body } = endpoints.status(status, targetUrl);
      try {
        await call('POST', path, body);
      } catch (error) {
        if (!(error instanceof GitHostCallError && endpoints.alreadySo(status, error))) throw error;
      }
    },

    async upsertComment(pullRequest, marker, body) {
      const known = comments.get(pullRequest) ?? (await findComment(pullRequest, marker));
      if (known !== undefined) {
        try {
          const { method, path } = endpoints.updateComment(pullRequest, known);
          await call(method, path, { body });
          comments.set(pullRequest, known);
          return 'updated';
        } catch (error) {
          // Someone deleted tend's comment: write a new one below.
          if (!(error instanceof GitHostCallError && error.message.endsWith('HTTP 404'))) throw error;
          comments.delete(pullRequest);
        }
      }
      const created = (await call('POST', endpoints.createComment(pullRequest), { body })) as { id?: unknown } | undefined;
      if (typeof created?.id === 'number') comments.set(pullRequest, created.id);
      return 'created';
    },
  };
}
