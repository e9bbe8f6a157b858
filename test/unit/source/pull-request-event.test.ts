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
