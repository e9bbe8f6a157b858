import { describe, expect, it } from 'vitest';
import { webhookEventOf, type WebhookHeaders, type WebhookProvider } from '../../../src/source/index.js';

/** Pull request deliveries of GitHub and Gitea: which ones make tend plan a head, and which head. */

const SHA = 'e'.repeat(40);
const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

function payload(action: string, overrides: { base?: string; headRepo?: string | null } = {}): Record<string, unknown> {
  const headRepo = overrides.headRepo === undefined ? 'acme/deploy' : overrides.headRepo;
  return {
    action,
    number: 7,
    pull_request: {
      number: 7,
      head: { sha: SHA, ref: 'feature', repo: headRepo === null ? null : { full_name: headRepo } },
      base: { ref: overrides.base ?? 'main', repo: { full_name: 'acme/deploy' } },
    },
  };
}

const PLANNED = { kind: 'pull-request', number: 7, headSha: SHA, repository: 'acme/deploy', fork: false };

describe('webhookEventOf reads pull request events', () => {
  it.each<[string, WebhookProvider, WebhookHeaders, unknown, unknown]>([
    ['GitHub opened: plan the head', 'github', { 'x-github-event': 'pull_request' }, payload('opened'), PLANNED],
    ['GitHub synchronize (a push to the pull request): plan the new head', 'github', { 'x-github-event': 'pull_request' }, payload('synchronize'), PLANNED],
    ['GitHub reopened', 'github', { 'x-github-event': 'pull_request' }, payload('reopened'), PLANNED],
    ['Gitea opened', 'gitea', { 'x-gitea-event': 'pull_request' }, payload('opened'), PLANNED],
    ['Gitea pull_request_sync (1.17 and later)', 'gitea', { 'x-gitea-event': 'pull_request_sync' }, payload('synchronized'), PLANNED],
    ['a head in another repository is a fork', 'github', { 'x-github-event': 'pull_request' }, payload('opened', { headRepo: 'mallory/deploy' }), { ...PLANNED, fork: true }],
    ['a head whose repository was deleted is a fork', 'github', { 'x-github-event': 'pull_request' }, payload('opened', { headRepo: null }), { ...PLANNED, fork: true }],
    ['closed does not change the head: ignored', 'github', { 'x-github-event': 'pull_request' }, payload('closed'), { kind: 'ignored', reason: expect.stringMatching(/action closed/) }],
    ['into another branch: ignored', 'github', { 'x-github-event': 'pull_request' }, payload('opened', { base: 'release/1.x' }), { kind: 'ignored', reason: expect.stringMatching(/into release\/1\.x, not into main/) }],
    ['no head sha: malformed', 'github', { 'x-github-event': 'pull_request' }, { action: 'opened', number: 7, pull_request: { head: {}, base: { ref: 'main', repo: { full_name: 'acme/deploy' } } } }, { kind: 'malformed', reason: 'the pull request payload has no head sha' }],
  ])('%s', (_name, provider, headers, body, expected) => {
    expect(webhookEventOf(provider, headers, encode(body), 'main')).toEqual(expected);
  });
});

/** GitLab's `Merge Request Hook`, shaped as GitLab documents it (only the fields tend reads, and a few it must not). */
function mergeRequestHook(action: string, overrides: { target?: string; sourceProject?: number | null; oldrev?: string | null } = {}): Record<string, unknown> {
  return {
    object_kind: 'merge_request',
    event_type: 'merge_request',
    project: { id: 1, path_with_namespace: 'acme/deploy' },
    object_attributes: {
      iid: 7,
      id: 1234,
      action,
      target_branch: overrides.target ?? 'main',
      source_branch: 'feature',
      target_project_id: 1,
      source_project_id: overrides.sourceProject === undefined ? 1 : overrides.sourceProject,
      last_commit: { id: SHA, message: 'bump api' },
      ...(overrides.oldrev === null ? {} : { oldrev: overrides.oldrev ?? 'd'.repeat(40) }),
      target: { path_with_namespace: 'acme/deploy' },
    },
  };
}

const MERGE_REQUEST = { kind: 'pull-request', number: 7, headSha: SHA, repository: 'acme/deploy', fork: false, headRef: 'refs/merge-requests/7/head' };
const GITLAB = { 'x-gitlab-event': 'Merge Request Hook' };

describe('webhookEventOf reads GitLab merge request events', () => {
  it.each<[string, unknown, unknown]>([
    ['open: plan refs/merge-requests/<iid>/head at last_commit', mergeRequestHook('open', { oldrev: null }), MERGE_REQUEST],
    ['reopen', mergeRequestHook('reopen', { oldrev: null }), MERGE_REQUEST],
    ['update with oldrev (new commits): plan the new head', mergeRequestHook('update'), MERGE_REQUEST],
    ['update without oldrev (a title, a label): ignored', mergeRequestHook('update', { oldrev: null }), { kind: 'ignored', reason: expect.stringMatching(/without new commits \(no oldrev\)/) }],
    ['a source project other than the target is a fork', mergeRequestHook('open', { sourceProject: 99 }), { ...MERGE_REQUEST, fork: true }],
    ['a deleted source project is a fork', mergeRequestHook('open', { sourceProject: null }), { ...MERGE_REQUEST, fork: true }],
    ['merge, close, approved: ignored', mergeRequestHook('merge'), { kind: 'ignored', reason: expect.stringMatching(/action merge does not change its head/) }],
    ['into another branch: ignored', mergeRequestHook('open', { target: 'release/1.x' }), { kind: 'ignored', reason: expect.stringMatching(/!7 is into release\/1\.x, not into main/) }],
    ['no last_commit: malformed', { object_attributes: { iid: 7, action: 'open', target_branch: 'main' }, project: { path_with_namespace: 'acme/deploy' } }, { kind: 'malformed', reason: 'the merge request payload has no last_commit.id' }],
    ['no object_attributes: malformed', { object_kind: 'merge_request' }, { kind: 'malformed', reason: 'the merge request payload has no object_attributes' }],
  ])('%s', (_name, body, expected) => {
    expect(webhookEventOf('gitlab', GITLAB, encode(body), 'main')).toEqual(expected);
  });

  it('reads a GitLab Merge Request Hook only from the provider that signed it: GitHub headers name no such event', () => {
    expect(webhookEventOf('github', { 'x-github-event': 'Merge Request Hook' }, encode(mergeRequestHook('open')), 'main')).toMatchObject({ kind: 'ignored' });
  });
});
