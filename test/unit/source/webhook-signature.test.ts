import { createHmac } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { verifyWebhook } from '../../../src/source/index.js';

const SECRET = 'webhook-secret-7f3a';
const BODY = new TextEncoder().encode('{"ref":"refs/heads/main","after":"abc"}');
const hmac = (body: Uint8Array, secret = SECRET) => createHmac('sha256', secret).update(body).digest('hex');
const good = hmac(BODY);
const otherBody = hmac(new TextEncoder().encode('{"ref":"refs/heads/evil"}'));

describe('verifyWebhook accepts a delivery signed with the secret', () => {
  it.each([
    ['github', 'github', { 'x-hub-signature-256': `sha256=${good}` }],
    ['github, header name as GitHub spells it', 'github', { 'X-Hub-Signature-256': `sha256=${good}` }],
    ['github, upper-case hex', 'github', { 'x-hub-signature-256': `sha256=${good.toUpperCase()}` }],
    ['gitea', 'gitea', { 'x-gitea-signature': good }],
    ['gogs', 'gitea', { 'x-gogs-signature': good }],
    ['gitea, which also sends the GitHub header', 'gitea', { 'x-gitea-signature': good, 'x-hub-signature-256': `sha256=${good}` }],
    ['gitlab', 'gitlab', { 'x-gitlab-token': SECRET }],
    ['bitbucket', 'bitbucket', { 'x-hub-signature': `sha256=${good}` }],
    ['github, which also sends a SHA-1 X-Hub-Signature', 'github', { 'x-hub-signature-256': `sha256=${good}`, 'x-hub-signature': 'sha1=0123456789abcdef0123456789abcdef01234567' }],
  ] as const)('%s', (_name, provider, headers) => {
    expect(verifyWebhook(headers, BODY, SECRET)).toEqual({ ok: true, provider });
  });
});

describe('verifyWebhook refuses, with a reason that never shows the secret or the expected signature', () => {
  it.each([
    ['github: signature of another body', { 'x-hub-signature-256': `sha256=${otherBody}` }, /does not match/],
    ['github: signed with another secret', { 'x-hub-signature-256': `sha256=${hmac(BODY, 'other')}` }, /does not match/],
    ['github: no sha256= prefix', { 'x-hub-signature-256': good }, /does not start with sha256=/],
    ['github: too short', { 'x-hub-signature-256': `sha256=${good.slice(0, 40)}` }, /40 hex digits, expected 64/],
    ['github: too long', { 'x-hub-signature-256': `sha256=${good}00` }, /66 hex digits/],
    ['github: not hex', { 'x-hub-signature-256': `sha256=${'z'.repeat(64)}` }, /not hexadecimal/],
    ['github: empty', { 'x-hub-signature-256': '' }, /does not start with/],
    ['github: sent twice', { 'x-hub-signature-256': [`sha256=${good}`, `sha256=${good}`] }, /more than once/],
    ['gitea: signature of another body', { 'x-gitea-signature': otherBody }, /does not match/],
    ['gitea: wrong length', { 'x-gitea-signature': `${good}ab` }, /66 hex digits/],
    ['gitea: a bad Gitea signature is not rescued by a good GitHub one', { 'x-gitea-signature': otherBody, 'x-hub-signature-256': `sha256=${good}` }, /does not match/],
    ['bitbucket: signature of another body', { 'x-hub-signature': `sha256=${otherBody}` }, /X-Hub-Signature does not match/],
    ['bitbucket: a SHA-1 signature, as old GitHub sent it', { 'x-hub-signature': 'sha1=0123456789abcdef0123456789abcdef01234567' }, /X-Hub-Signature does not start with sha256=/],
    ['gitlab: wrong token', { 'x-gitlab-token': 'webhook-secret-7f3b' }, /does not match/],
    ['gitlab: token of another length', { 'x-gitlab-token': SECRET.slice(0, 5) }, /does not match/],
    ['gitlab: the token is the secret, not an HMAC', { 'x-gitlab-token': good }, /does not match/],
    ['no signature header at all', { 'content-type': 'application/json' }, /no signature header/],
    ['the header present but undefined', { 'x-hub-signature-256': undefined }, /no signature header/],
  ] as const)('%s', (_name, headers, reason) => {
    const verdict = verifyWebhook(headers, BODY, SECRET);
    expect(verdict.ok).toBe(false);
    if (verdict.ok) return;
    expect(verdict.reason).toMatch(reason);
    expect(verdict.reason).not.toContain(SECRET);
    expect(verdict.reason.toLowerCase()).not.toContain(good);
  });

  it('refuses everything when the configured secret is empty, even a matching empty GitLab token', () => {
    expect(verifyWebhook({ 'x-gitlab-token': '' }, BODY, '')).toMatchObject({ ok: false, reason: expect.stringMatching(/no webhook secret/) });
    expect(verifyWebhook({ 'x-hub-signature-256': `sha256=${hmac(BODY, '')}` }, BODY, '')).toMatchObject({ ok: false });
  });
});
