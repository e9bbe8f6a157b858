import { header, type WebhookHeaders, type WebhookProvider } from './webhook-signature.js';

/**
 * What a verified delivery asks of tend: `push` (the followed branch moved: fetch now), `ping` (the git host
 * checks the hook: answer, do nothing), `ignored` (another event or ref: nothing to fetch, with the reason
 * for whoever reads the git host's delivery log) or `malformed` (signed, but not a delivery tend can read).
 */
export type WebhookEvent =
  | { readonly kind: 'push'; readonly ref: string }
  | PullRequestEvent
  | { readonly kind: 'ping' }
  | { readonly kind: 'ignored'; readonly reason: string }
  | { readonly kind: 'malformed'; readonly reason: string };

/**
 * A pull request into the followed branch was opened, pushed to or reopened: plan its head. `repository` is
 * the base repository's `owner/name`; `fork` says the head lives in another repository (or one since
 * deleted), whose author may not be trusted with what a plan shows.
 */
export interface PullRequestEvent {
  readonly kind: 'pull-request';
  /** GitHub's and Gitea's pull request number, GitLab's merge request iid: what its comments are filed under. */
  readonly number: number;
  readonly headSha: string;
  readonly repository: string;
  readonly fork: boolean;
  /**
   * The ref of the base repository that holds the head, when the sha alone may not be fetchable: GitLab
   * keeps a merge request's head (a fork's too) at `refs/merge-requests/<iid>/head`.
   */
  readonly headRef?: string;
}

/** The refs a push payload names, or why it names none tend can read. */
type RefsOfPush = (payload: Readonly<Record<string, unknown>>) => readonly string[] | string;

interface ProviderEvents {
  /** The headers naming the event, first present wins (Gogs' for a Gogs delivery, which has no Gitea one). */
  readonly eventHeaders: readonly string[];
  readonly pings: readonly string[];
  readonly pushes: ReadonlyMap<string, RefsOfPush>;
  /** Pull request events and how to read them. */
  readonly pullRequests: ReadonlyMap<string, PullRequestOf>;
}

/** Reads a pull request delivery against the followed branch. */
type PullRequestOf = (payload: Readonly<Record<string, unknown>>, branch: string) => WebhookEvent;

const NO_PULL_REQUESTS: ReadonlyMap<string, PullRequestOf> = new Map();

/** The actions that change what a plan of a GitHub or Gitea pull request's head says. */
const githubPullRequest =
  (actions: ReadonlySet<string>): PullRequestOf =>
  (payload, branch) =>
    pullRequestOf(payload, actions, branch);

const PROVIDER_EVENTS: Readonly<Record<WebhookProvider, ProviderEvents>> = {
  github: {
    eventHeaders: ['X-GitHub-Event'],
    pings: ['ping'],
    pushes: new Map([['push', refOfPush]]),
    pullRequests: new Map([['pull_request', githubPullRequest(new Set(['opened', 'synchronize', 'reopened']))]]),
  },
  // Gitea and Gogs send no ping; one that did would still be answered as such. Gitea names a push to a
  // pull request `pull_request_sync` (action `synchronized`) since 1.17, `pull_request` before.
  gitea: {
    eventHeaders: ['X-Gitea-Event', 'X-Gogs-Event'],
    pings: ['ping'],
    pushes: new Map([['push', refOfPush]]),
    pullRequests: new Map([
      ['pull_request', githubPullRequest(new Set(['opened', 'synchronized', 'reopened']))],
      ['pull_request_sync', githubPullRequest(new Set(['synchronized']))],
    ]),
  },
  // A tag push is its own event, `Tag Push Hook`; GitLab has no ping (its "Test" button sends a real push).
  gitlab: { eventHeaders: ['X-Gitlab-Event'], pings: [], pushes: new Map([['Push Hook', refOfPush]]), pullRequests: new Map([['Merge Request Hook', mergeRequestOf]]) },
  bitbucket: {
    eventHeaders: ['X-Event-Key'],
    // Server / Data Center's "Test connection".
    pings: ['diagnostics:ping'],
    pushes: new Map([
      ['repo:refs_changed', refsOfBitbucketServerPush],
      ['repo:push', refsOfBitbucketCloudPush],
    ]),
    pullRequests: NO_PULL_REQUESTS,
  },
};

/** How many refs an `ignored` reason names before it says "and N more": a reason is logged and answered. */
const REFS_SHOWN = 3;

/**
 * Reads what a delivery the signature check accepted from `provider` is about, against the followed
 * `branch`. Only the event header of the provider that signed is read (Gitea sends GitHub's too), so a
 * header cannot change the meaning of a signature made by another. Bodies come as JSON or, as GitHub and
 * Gitea may be set to send them, as a form whose `payload` field is the JSON.
 */
export function webhookEventOf(provider: WebhookProvider, headers: WebhookHeaders, body: Uint8Array, branch: string): WebhookEvent {
  const events = PROVIDER_EVENTS[provider];
  const named = eventName(events.eventHeaders, headers);
  if (!named.ok) return { kind: 'malformed', reason: named.reason };
  const { event, headerName } = named;
  const payload = payloadOf(headers, body);
  if (typeof payload === 'string') return { kind: 'malformed', reason: payload };
  if (events.pings.includes(event)) return { kind: 'ping' };
  const pullRequest = events.pullRequests.get(event);
  if (pullRequest !== undefined) return pullRequest(payload, branch);
  const refsOf = events.pushes.get(event);
  if (refsOf === undefined) return { kind: 'ignored', reason: `${headerName} ${event} is not a push or a pull request; tend fetches on a push to ${branch}` };
  const refs = refsOf(payload);
  if (typeof refs === 'string') return { kind: 'malformed', reason: refs };
  const followed = `refs/heads/${branch}`;
  if (refs.includes(followed)) return { kind: 'push', ref: followed };
  return { kind: 'ignored', reason: `a push to ${describeRefs(refs)}, not to ${followed}, the branch tend follows` };
}

function eventName(
  names: readonly string[],
  headers: WebhookHeaders,
): { readonly ok: true; readonly event: string; readonly headerName: string } | { readonly ok: false; readonly reason: string } {
  for (const headerName of names) {
    const value = header(headers, headerName.toLowerCase());
    if (value === undefined) continue;
    return value.ok ? { ok: true, event: value.value, headerName } : value;
  }
  return { ok: false, reason: `no ${names.join(' or ')} header: the delivery does not say which event it is` };
}

function payloadOf(headers: WebhookHeaders, body: Uint8Array): Readonly<Record<string, unknown>> | string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    return 'the body is not UTF-8';
  }
  const contentType = header(headers, 'content-type');
  if (contentType?.ok === true && contentType.value.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    const field = new URLSearchParams(text).get('payload');
    if (field === null) return 'the form body has no payload field';
    text = field;
  }
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    return 'the body is not JSON; set the webhook\'s content type to application/json';
  }
  return isObject(payload) ? payload : 'the body is not a JSON object';
}

/**
 * GitHub and Gitea: `{ "action": "opened", "number": 7, "pull_request": { "head": { "sha", "repo": { "full_name" } },
 * "base": { "ref": "main", "repo": { "full_name" } } } }`.
 */
function pullRequestOf(payload: Readonly<Record<string, unknown>>, actions: ReadonlySet<string>, branch: string): WebhookEvent {
  const { action, number } = payload;
  const pull = payload['pull_request'];
  if (typeof action !== 'string') return { kind: 'malformed', reason: 'the pull request payload has no action' };
  if (!actions.has(action)) return { kind: 'ignored', reason: `pull request action ${action} does not change its head; tend plans on ${[...actions].join(', ')}` };
  if (!isObject(pull)) return { kind: 'malformed', reason: 'the pull request payload has no pull_request' };
  const head = isObject(pull['head']) ? pull['head'] : undefined;
  const base = isObject(pull['base']) ? pull['base'] : undefined;
  const headSha = head?.['sha'];
  const baseRepo = isObject(base?.['repo']) ? base['repo']['full_name'] : undefined;
  const headRepo = isObject(head?.['repo']) ? head['repo']['full_name'] : undefined;
  const prNumber = typeof number === 'number' ? number : pull['number'];
  if (typeof prNumber !== 'number' || !Number.isSafeInteger(prNumber) || prNumber < 1) return { kind: 'malformed', reason: 'the pull request payload has no number' };
  if (typeof headSha !== 'string' || !/^[0-9a-f]{40}$/.test(headSha)) return { kind: 'malformed', reason: 'the pull request payload has no head sha' };
  if (typeof baseRepo !== 'string') return { kind: 'malformed', reason: 'the pull request payload has no base repo full_name' };
  if (base?.['ref'] !== branch) return { kind: 'ignored', reason: `pull request #${prNumber} is into ${String(base?.['ref'])}, not into ${branch}, the branch tend follows` };
  return { kind: 'pull-request', number: prNumber, headSha, repository: baseRepo, fork: headRepo !== baseRepo };
}

/** GitLab's merge request actions that put new commits at its head (an `update` only when it has `oldrev`). */
const GITLAB_PLANNED_ACTIONS: ReadonlySet<string> = new Set(['open', 'reopen', 'update']);

/**
 * GitLab: `{ "object_kind": "merge_request", "project": { "path_with_namespace" }, "object_attributes": {
 * "iid": 7, "action": "update", "oldrev": "<sha>", "target_branch": "main", "source_project_id": 2,
 * "target_project_id": 1, "last_commit": { "id": "<sha>" } } }`. An `update` without `oldrev` changed the
 * title, labels or assignees, not the head; a head in another project is a fork.
 */
function mergeRequestOf(payload: Readonly<Record<string, unknown>>, branch: string): WebhookEvent {
  const attributes = payload['object_attributes'];
  if (!isObject(attributes)) return { kind: 'malformed', reason: 'the merge request payload has no object_attributes' };
  const { action, iid, oldrev } = attributes;
  if (typeof action !== 'string') return { kind: 'malformed', reason: 'the merge request payload has no object_attributes.action' };
  if (!GITLAB_PLANNED_ACTIONS.has(action)) return { kind: 'ignored', reason: `merge request action ${action} does not change its head; tend plans on open, reopen and an update with new commits` };
  if (action === 'update' && (typeof oldrev !== 'string' || oldrev === '')) return { kind: 'ignored', reason: 'a merge request update without new commits (no oldrev) does not change its head' };
  if (typeof iid !== 'number' || !Number.isSafeInteger(iid) || iid < 1) return { kind: 'malformed', reason: 'the merge request payload has no object_attributes.iid' };
  const lastCommit = isObject(attributes['last_commit']) ? attributes['last_commit']['id'] : undefined;
  if (typeof lastCommit !== 'string' || !/^[0-9a-f]{40}$/.test(lastCommit)) return { kind: 'malformed', reason: 'the merge request payload has no last_commit.id' };
  const project = isObject(payload['project']) ? payload['project']['path_with_namespace'] : undefined;
  const target = isObject(attributes['target']) ? attributes['target']['path_with_namespace'] : undefined;
  const repository = typeof project === 'string' ? project : target;
  if (typeof repository !== 'string') return { kind: 'malformed', reason: 'the merge request payload has no project.path_with_namespace' };
  const targetBranch = attributes['target_branch'];
  if (targetBranch !== branch) return { kind: 'ignored', reason: `merge request !${iid} is into ${String(targetBranch)}, not into ${branch}, the branch tend follows` };
  const sourceProject = attributes['source_project_id'];
  const fork = typeof sourceProject !== 'number' || sourceProject !== attributes['target_project_id'];
  return { kind: 'pull-request', number: iid, headSha: lastCommit, repository, fork, headRef: `refs/merge-requests/${iid}/head` };
}

/** GitHub, Gitea, Gogs and GitLab: `{ "ref": "refs/heads/main", ... }`. */
function refOfPush(payload: Readonly<Record<string, unknown>>): readonly string[] | string {
  const { ref } = payload;
  return typeof ref === 'string' ? [ref] : 'the push payload has no ref';
}

/** Bitbucket Server and Data Center: `{ "changes": [{ "ref": { "id": "refs/heads/main" }, ... }] }`. */
function refsOfBitbucketServerPush(payload: Readonly<Record<string, unknown>>): readonly string[] | string {
  const { changes } = payload;
  if (!Array.isArray(changes)) return 'the push payload has no changes';
  const refs = changes.map((change: unknown) => (isObject(change) && isObject(change['ref']) ? change['ref']['id'] : undefined));
  return refs.every((ref): ref is string => typeof ref === 'string') ? refs : 'a change of the push payload has no ref.id';
}

const BITBUCKET_CLOUD_REF_KINDS: ReadonlyMap<unknown, string> = new Map([
  ['branch', 'refs/heads'],
  ['tag', 'refs/tags'],
]);

/**
 * Bitbucket Cloud: `{ "push": { "changes": [{ "new": { "type": "branch", "name": "main" }, "old": ... }] } }`;
 * `new` is null when the ref was deleted, and then `old` names it.
 */
function refsOfBitbucketCloudPush(payload: Readonly<Record<string, unknown>>): readonly string[] | string {
  const { push } = payload;
  const changes = isObject(push) ? push['changes'] : undefined;
  if (!Array.isArray(changes)) return 'the push payload has no push.changes';
  const refs: string[] = [];
  for (const change of changes as unknown[]) {
    const ref = isObject(change) ? (isObject(change['new']) ? change['new'] : change['old']) : undefined;
    const kind = isObject(ref) ? BITBUCKET_CLOUD_REF_KINDS.get(ref['type']) : undefined;
    if (!isObject(ref) || kind === undefined || typeof ref['name'] !== 'string') return 'a change of the push payload names no branch or tag';
    refs.push(`${kind}/${ref['name']}`);
  }
  return refs;
}

function describeRefs(refs: readonly string[]): string {
  if (refs.length === 0) return 'no ref';
  const shown = refs.slice(0, REFS_SHOWN).join(', ');
  return refs.length > REFS_SHOWN ? `${shown} and ${refs.length - REFS_SHOWN} more` : shown;
}

function isObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
