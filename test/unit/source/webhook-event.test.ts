import { describe, expect, it } from 'vitest';
import { webhookEventOf, type WebhookHeaders, type WebhookProvider } from '../../../src/source/index.js';

const encode = (value: unknown) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
const JSON_TYPE = { 'content-type': 'application/json' };

describe('webhookEventOf reads a verified delivery against the followed branch (main)', () => {
  it.each<[string, WebhookProvider, WebhookHeaders, unknown, unknown]>([
    ['a Gitea push is read from X-Gitea-Event, not from the GitHub header it also sends', 'gitea', { ...JSON_TYPE, 'x-gitea-event': 'create', 'x-github-event': 'push' }, { ref: 'refs/heads/main' }, { kind: 'ignored', reason: expect.stringMatching(/^X-Gitea-Event create is not a push/) }],
    ['a Gogs push has only X-Gogs-Event', 'gitea', { ...JSON_TYPE, 'x-gogs-event': 'push' }, { ref: 'refs/heads/main' }, { kind: 'push', ref: 'refs/heads/main' }],
    ['a GitHub event header sent twice is unreadable', 'github', { ...JSON_TYPE, 'x-github-event': ['push', 'ping'] }, { ref: 'refs/heads/main' }, { kind: 'malformed', reason: 'header x-github-event appears more than once' }],
    ['a GitLab delivery without X-Gitlab-Event', 'gitlab', JSON_TYPE, { ref: 'refs/heads/main' }, { kind: 'malformed', reason: expect.stringMatching(/^no X-Gitlab-Event header/) }],
    ['a GitLab system hook is not a push', 'gitlab', { ...JSON_TYPE, 'x-gitlab-event': 'System Hook' }, { object_kind: 'push', ref: 'refs/heads/main' }, { kind: 'ignored', reason: expect.stringMatching(/System Hook is not a push/) }],
    ['a Bitbucket Cloud deletion of the branch names it in old', 'bitbucket', { ...JSON_TYPE, 'x-event-key': 'repo:push' }, { push: { changes: [{ new: null, old: { type: 'branch', name: 'main' }, closed: true }] } }, { kind: 'push', ref: 'refs/heads/main' }],
    ['a Bitbucket Cloud change of an unknown kind', 'bitbucket', { ...JSON_TYPE, 'x-event-key': 'repo:push' }, { push: { changes: [{ new: { type: 'bookmark', name: 'main' } }] } }, { kind: 'malformed', reason: 'a change of the push payload names no branch or tag' }],
    ['a Bitbucket Server push that changed no ref', 'bitbucket', { ...JSON_TYPE, 'x-event-key': 'repo:refs_changed' }, { changes: [] }, { kind: 'ignored', reason: 'a push to no ref, not to refs/heads/main, the branch tend follows' }],
    [
      'a push of many refs names three and counts the rest',
      'bitbucket',
      { ...JSON_TYPE, 'x-event-key': 'repo:refs_changed' },
      { changes: ['a', 'b', 'c', 'd', 'e'].map((name) => ({ ref: { id: `refs/heads/${name}` } })) },
      { kind: 'ignored', reason: 'a push to refs/heads/a, refs/heads/b, refs/heads/c and 2 more, not to refs/heads/main, the branch tend follows' },
    ],
    ['a form body without a payload field', 'github', { 'content-type': 'application/x-www-form-urlencoded', 'x-github-event': 'push' }, 'ref=refs%2Fheads%2Fmain', { kind: 'malformed', reason: 'the form body has no payload field' }],
    ['a ping is answered even with a body tend never reads further', 'github', { ...JSON_TYPE, 'x-github-event': 'ping' }, { zen: 'Design for failure.' }, { kind: 'ping' }],
  ])('%s', (_name, provider, headers, payload, expected) => {
    expect(webhookEventOf(provider, headers, encode(payload), 'main')).toEqual(expected);
  });

  it('refuses a body that is not UTF-8', () => {
    expect(webhookEventOf('github', { 'x-github-event': 'push' }, Uint8Array.of(0x7b, 0xff, 0x7d), 'main')).toEqual({ kind: 'malformed', reason: 'the body is not UTF-8' });
  });

  it('follows a branch with slashes exactly, never by prefix', () => {
    const push = (ref: string) => webhookEventOf('github', { 'x-github-event': 'push' }, encode({ ref }), 'release/2.x');
    expect(push('refs/heads/release/2.x')).toEqual({ kind: 'push', ref: 'refs/heads/release/2.x' });
    expect(push('refs/heads/release/2.x/hotfix').kind).toBe('ignored');
    expect(push('refs/heads/release').kind).toBe('ignored');
  });
});
