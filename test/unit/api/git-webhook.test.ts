import { createHmac } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../../../src/api/index.js';
import { TendError } from '../../../src/errors/index.js';
import { createLogger } from '../../../src/observability/index.js';
import type { PullRequestEvent } from '../../../src/source/index.js';
import { stubDaemonApi } from './status-fixtures.js';

/**
 * `POST /hooks/git` against the real HTTP server: only a signed push to the followed branch pokes a pass;
 * a ping, another branch, a tag or another event is answered and left alone.
 */

const SECRET = 'webhook-secret-9c21';
const BRANCH = 'main';

let server: ApiServer;
let pokes: number;
/** What the daemon answers a poke: at once on a leader, relayed or refused on a standby. */
let pokeAnswer: () => Promise<{ relayedTo?: string }>;
let pulls: PullRequestEvent[];
let logLines: string[];

beforeEach(async () => {
  pokes = 0;
  pokeAnswer = async () => ({});
  pulls = [];
  logLines = [];
  const api = stubDaemonApi({
    poke: () => {
      pokes += 1;
      return pokeAnswer();
    },
    pullRequest: (event) => {
      pulls.push(event);
      return { accepted: true };
    },
  });
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  server = await startApiServer(api, {
    listen: { host: '127.0.0.1', port: 0 },
    webhookSecret: SECRET,
    operatorToken: 'operator-token',
    branch: BRANCH,
    logger: createLogger({ level: 'debug', destination }),
  });
});

afterEach(async () => {
  await server.close();
});

type Provider = 'github' | 'gitea' | 'gogs' | 'gitlab' | 'bitbucket-server' | 'bitbucket-cloud';

const sign = (body: string, secret = SECRET) => createHmac('sha256', secret).update(body).digest('hex');

/** The headers each git host sends with a delivery of `event`, signed as it signs. */
function deliveryHeaders(provider: Provider, event: string, body: string): Record<string, string> {
  const json = { 'content-type': 'application/json' };
  switch (provider) {
    case 'github':
      return { ...json, 'x-github-event': event, 'x-hub-signature-256': `sha256=${sign(body)}` };
    case 'gitea':
      // Gitea sends its own headers and GitHub's and Gogs' too.
      return { ...json, 'x-gitea-event': event, 'x-gogs-event': event, 'x-github-event': event, 'x-gitea-signature': sign(body), 'x-hub-signature-256': `sha256=${sign(body)}` };
    case 'gogs':
      return { ...json, 'x-gogs-event': event, 'x-gogs-signature': sign(body) };
    case 'gitlab':
      return { ...json, 'x-gitlab-event': event, 'x-gitlab-token': SECRET };
    case 'bitbucket-server':
    case 'bitbucket-cloud':
      return { ...json, 'x-event-key': event, 'x-hub-signature': `sha256=${sign(body)}` };
  }
}

async function deliver(headers: Record<string, string>, body: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${server.url}/hooks/git`, { method: 'POST', headers, body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const githubPush = (ref: string) => JSON.stringify({ ref, before: '0'.repeat(40), after: 'a'.repeat(40), repository: { full_name: 'ops/deploy' } });
const bitbucketServerPush = (...refs: string[]) =>
  JSON.stringify({ eventKey: 'repo:refs_changed', changes: refs.map((id) => ({ ref: { id, displayId: id.replace(/^refs\/\w+\//, ''), type: id.startsWith('refs/tags/') ? 'TAG' : 'BRANCH' }, refId: id, fromHash: 'a'.repeat(40), toHash: 'b'.repeat(40), type: 'UPDATE' })) });
const bitbucketCloudPush = (type: 'branch' | 'tag', name: string) => JSON.stringify({ push: { changes: [{ new: { type, name, target: { hash: 'b'.repeat(40) } }, old: null, created: true, closed: false }] } });

describe('POST /hooks/git pokes a pass only for a push to the followed branch', () => {
  it.each([
    ['github', 'push', githubPush('refs/heads/main')],
    ['gitea', 'push', githubPush('refs/heads/main')],
    ['gogs', 'push', githubPush('refs/heads/main')],
    ['gitlab', 'Push Hook', JSON.stringify({ object_kind: 'push', ref: 'refs/heads/main' })],
    ['bitbucket-server', 'repo:refs_changed', bitbucketServerPush('refs/heads/main')],
    ['bitbucket-server', 'repo:refs_changed', bitbucketServerPush('refs/heads/feature', 'refs/heads/main')],
    ['bitbucket-cloud', 'repo:push', bitbucketCloudPush('branch', 'main')],
  ] as const)('%s %s to refs/heads/main: 202 accepted and exactly one poke', async (provider, event, body) => {
    const answer = await deliver(deliveryHeaders(provider, event, body), body);
    expect(answer).toEqual({ status: 202, body: expect.objectContaining({ accepted: true, ref: 'refs/heads/main' }) });
    expect(pokes).toBe(1);
  });

  it('a standby answers 202 naming the leader it relayed the push to', async () => {
    pokeAnswer = async () => ({ relayedTo: 'tend-a' });
    const body = githubPush('refs/heads/main');
    expect(await deliver(deliveryHeaders('github', 'push', body), body)).toEqual({ status: 202, body: expect.objectContaining({ accepted: true, relayedTo: 'tend-a' }) });
  });

  it('a standby that cannot relay the push answers 503 E_NOT_LEADER, so the git host records a failed delivery', async () => {
    pokeAnswer = async () => {
      throw new TendError('E_NOT_LEADER', 'transient', 'tend-b does not act: etcd is unavailable', { hint: 'No instance leads now; see `tend status` for why.' });
    };
    const body = githubPush('refs/heads/main');
    expect(await deliver(deliveryHeaders('github', 'push', body), body)).toEqual({ status: 503, body: expect.objectContaining({ code: 'E_NOT_LEADER', hint: expect.stringContaining('No instance leads') }) });
  });

  it('reads a GitHub delivery sent as a form (payload=...), GitHub\'s other content type', async () => {
    const body = new URLSearchParams({ payload: githubPush('refs/heads/main') }).toString();
    const headers = { ...deliveryHeaders('github', 'push', body), 'content-type': 'application/x-www-form-urlencoded' };
    expect((await deliver(headers, body)).status).toBe(202);
    expect(pokes).toBe(1);
  });

  it.each([
    ['github', 'ping', JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 })],
    ['gitea', 'ping', JSON.stringify({})],
    ['bitbucket-server', 'diagnostics:ping', JSON.stringify({ test: true })],
  ] as const)('%s %s: 200 and no poke', async (provider, event, body) => {
    const answer = await deliver(deliveryHeaders(provider, event, body), body);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ pong: true });
    expect(pokes).toBe(0);
  });

  it.each([
    ['github push to another branch', 'github', 'push', githubPush('refs/heads/feature'), /refs\/heads\/feature.*not.*refs\/heads\/main/],
    ['github tag push', 'github', 'push', githubPush('refs/tags/v1.2.0'), /refs\/tags\/v1\.2\.0/],
    ['github create event', 'github', 'create', JSON.stringify({ ref: 'main', ref_type: 'branch' }), /create.*not a push/],
    ['github push to a branch whose name ends like the followed one', 'github', 'push', githubPush('refs/heads/not-main'), /refs\/heads\/not-main/],
    ['github push to refs/heads/main/x', 'github', 'push', githubPush('refs/heads/main/x'), /refs\/heads\/main\/x/],
    ['gitea create event', 'gitea', 'create', JSON.stringify({ ref: 'v1', ref_type: 'tag' }), /create.*not a push/],
    ['gitlab tag push', 'gitlab', 'Tag Push Hook', JSON.stringify({ object_kind: 'tag_push', ref: 'refs/tags/v1' }), /Tag Push Hook.*not a push/],
    ['gitlab push to another branch', 'gitlab', 'Push Hook', JSON.stringify({ object_kind: 'push', ref: 'refs/heads/dev' }), /refs\/heads\/dev/],
    ['bitbucket server tag', 'bitbucket-server', 'repo:refs_changed', bitbucketServerPush('refs/tags/v1'), /refs\/tags\/v1/],
    ['bitbucket server pull request', 'bitbucket-server', 'pr:opened', JSON.stringify({ eventKey: 'pr:opened' }), /pr:opened.*not a push/],
    ['bitbucket cloud tag', 'bitbucket-cloud', 'repo:push', bitbucketCloudPush('tag', 'main'), /refs\/tags\/main/],
  ] as const)('%s: 202 ignored with the reason, no poke', async (_name, provider, event, body, reason) => {
    const answer = await deliver(deliveryHeaders(provider, event, body), body);
    expect(answer.status).toBe(202);
    expect(answer.body['ignored']).toMatch(reason);
    expect(answer.body['accepted']).toBeUndefined();
    expect(pokes).toBe(0);
  });
});

describe('POST /hooks/git refuses what it cannot trust or read', () => {
  it('answers 401 to a push signed with another secret, before reading the event', async () => {
    const body = githubPush('refs/heads/main');
    const headers = { ...deliveryHeaders('github', 'push', body), 'x-hub-signature-256': `sha256=${sign(body, 'another-secret')}` };
    expect((await deliver(headers, body)).status).toBe(401);
    expect(pokes).toBe(0);
  });

  it('answers 401 to a ping that is not signed', async () => {
    const body = JSON.stringify({ zen: 'hi' });
    expect((await deliver({ 'content-type': 'application/json', 'x-github-event': 'ping' }, body)).status).toBe(401);
  });

  it('answers 401 to a Bitbucket delivery with a sha1 X-Hub-Signature', async () => {
    const body = bitbucketServerPush('refs/heads/main');
    const sha1 = createHmac('sha1', SECRET).update(body).digest('hex');
    const answer = await deliver({ 'content-type': 'application/json', 'x-event-key': 'repo:refs_changed', 'x-hub-signature': `sha1=${sha1}` }, body);
    expect(answer).toEqual({ status: 401, body: { error: expect.stringMatching(/X-Hub-Signature does not start with sha256=/) } });
  });

  it.each([
    ['a body that is not JSON', 'github', 'push', '{"ref": "refs/heads/main"', /not JSON/],
    ['a push without a ref', 'github', 'push', JSON.stringify({ after: 'a'.repeat(40) }), /no ref/],
    ['a push whose ref is not a string', 'gitlab', 'Push Hook', JSON.stringify({ ref: ['refs/heads/main'] }), /no ref/],
    ['a Bitbucket Server push without changes', 'bitbucket-server', 'repo:refs_changed', JSON.stringify({ eventKey: 'repo:refs_changed' }), /no changes/],
    ['a JSON body that is not an object', 'github', 'push', '"refs/heads/main"', /not a JSON object/],
  ] as const)('answers 400 to %s with a valid signature, and does not poke', async (_name, provider, event, body, reason) => {
    const answer = await deliver(deliveryHeaders(provider, event, body), body);
    expect(answer).toEqual({ status: 400, body: { error: expect.stringMatching(reason) } });
    expect(pokes).toBe(0);
  });

  it('answers 400 to a signed delivery that does not say which event it is', async () => {
    const body = githubPush('refs/heads/main');
    const answer = await deliver({ 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${sign(body)}` }, body);
    expect(answer).toEqual({ status: 400, body: { error: expect.stringMatching(/no X-GitHub-Event header/) } });
    expect(pokes).toBe(0);
  });

  it('logs an ignored delivery with its reason as data, under a static message', async () => {
    const body = githubPush('refs/heads/feature');
    await deliver(deliveryHeaders('github', 'push', body), body);
    const ignored = logLines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line['msg'] === 'webhook ignored');
    expect(ignored).toMatchObject({ provider: 'github', reason: expect.stringContaining('refs/heads/feature') });
  });
});

describe('POST /hooks/git with a pull request', () => {
  it.each<[Provider, string, string]>([
    ['github', 'pull_request', 'synchronize'],
    ['gitea', 'pull_request', 'opened'],
  ])('hands a signed %s %s (%s) into main to the git host publisher, without a pass', async (provider, event, action) => {
    const sha = 'f'.repeat(40);
    const body = JSON.stringify({ action, number: 7, pull_request: { head: { sha, repo: { full_name: 'acme/deploy' } }, base: { ref: 'main', repo: { full_name: 'acme/deploy' } } } });
    const answer = await deliver(deliveryHeaders(provider, event, body), body);
    expect(answer).toEqual({ status: 202, body: { accepted: true, provider, pullRequest: 7, sha } });
    expect(pulls).toEqual([{ kind: 'pull-request', number: 7, headSha: sha, repository: 'acme/deploy', fork: false }]);
    expect(pokes).toBe(0);
  });
});

describe('POST /hooks/git with a GitLab merge request', () => {
  const sha = 'a'.repeat(40);
  const body = JSON.stringify({
    object_kind: 'merge_request',
    project: { path_with_namespace: 'acme/deploy' },
    object_attributes: { iid: 12, action: 'update', oldrev: 'b'.repeat(40), target_branch: 'main', source_project_id: 3, target_project_id: 3, last_commit: { id: sha } },
  });

  it('hands a Merge Request Hook with the right X-Gitlab-Token to the git host publisher, with its head ref', async () => {
    const answer = await deliver(deliveryHeaders('gitlab', 'Merge Request Hook', body), body);
    expect(answer).toEqual({ status: 202, body: { accepted: true, provider: 'gitlab', pullRequest: 12, sha } });
    expect(pulls).toEqual([{ kind: 'pull-request', number: 12, headSha: sha, repository: 'acme/deploy', fork: false, headRef: 'refs/merge-requests/12/head' }]);
    expect(pokes).toBe(0);
  });

  it('answers 401 to a wrong X-Gitlab-Token and plans nothing, without echoing either token', async () => {
    const answer = await deliver({ 'content-type': 'application/json', 'x-gitlab-event': 'Merge Request Hook', 'x-gitlab-token': 'guessed-token' }, body);
    expect(answer).toEqual({ status: 401, body: { error: 'X-Gitlab-Token does not match the webhook secret' } });
    expect(pulls).toEqual([]);
    expect(pokes).toBe(0);
    expect(logLines.join('')).not.toContain('guessed-token');
    expect(logLines.join('')).not.toContain(SECRET);
  });
});
