import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGitHostPublisher, gitHostApi, type GitHostPublisher } from '../../../src/githost/index.js';
import { createLogger } from '../../../src/observability/index.js';
import type { PullRequestEvent } from '../../../src/source/index.js';
import { FakeGitLab } from '../../support/fake-gitlab.js';
import type { DaemonWorld } from '../daemon/support/daemon-world.js';
import { publisherWorld, SECRET_VALUE } from './support/publisher-world.js';

/**
 * The git host publisher with `provider: gitlab` against a local HTTP server implementing GitLab's documented
 * endpoints (commit statuses; list, create and update merge request notes), recording every call; plans
 * come from the daemon's in-memory world, deploy results from its real reconciler.
 */

const TOKEN = 'glpat-canary-7d1c4b';
const HEAD_REF = 'refs/merge-requests/7/head';

let gitlab: FakeGitLab;
let world: DaemonWorld;
let publisher: GitHostPublisher;
let logLines: string[];
let sleeps: number[];
let losses: string[];

/** What tend reads from a `Merge Request Hook` (see the webhook tests for the payload). */
function mergeRequest(headSha: string, fork = false): PullRequestEvent {
  return { kind: 'pull-request', number: 7, headSha, repository: 'acme/deploy', fork, headRef: HEAD_REF };
}

beforeEach(async () => {
  gitlab = new FakeGitLab(TOKEN, 'acme/deploy');
  await gitlab.start();
  ({ world, publisher, logLines, sleeps, losses } = await publisherWorld(gitHostApi({ provider: 'gitlab', apiUrl: gitlab.url, token: TOKEN, repository: 'acme/deploy' })));
});

afterEach(async () => {
  await publisher.drain();
  // Neither the API token nor a secret's value is in any log line or any body sent to GitLab.
  const everything = [...logLines, ...gitlab.calls.map((call) => JSON.stringify(call))].join('\n');
  expect(everything).not.toContain(TOKEN);
  expect(everything).not.toContain(SECRET_VALUE);
  await gitlab.close();
});

describe('GitLab merge requests', () => {
  it('plans each push to a merge request and keeps one note, updated in place on the second push', async () => {
    const spec = world.source.fileAt(world.source.head, 'services/api/spec.yml') ?? '';
    const first = world.source.commitOnRef(HEAD_REF, 'api: debug logs', { 'services/api/spec.yml': spec.replace('API_PORT=8080', 'API_PORT=8080\n    LOG_LEVEL=debug') });
    expect(publisher.pullRequest(mergeRequest(first))).toEqual({ accepted: true });
    await publisher.drain();
    const second = world.source.commitOnRef(HEAD_REF, 'api: trace logs', { 'services/api/spec.yml': spec.replace('API_PORT=8080', 'API_PORT=8080\n    LOG_LEVEL=trace') });
    expect(publisher.pullRequest(mergeRequest(second))).toEqual({ accepted: true });
    await publisher.drain();

    const plan = gitlab.statuses('tend/plan');
    expect(plan.filter((one) => one.sha === first).map((one) => one.state)).toEqual(['pending', 'success']);
    expect(plan.filter((one) => one.sha === second).map((one) => one.state)).toEqual(['pending', 'success']);
    expect(plan.at(-1)).toMatchObject({ description: 'valid; 2 to update in api', targetUrl: 'https://tend.example.com/' });
    const notePath = '/api/v4/projects/acme%2Fdeploy/merge_requests/7/notes';
    const writes = gitlab.calls.filter((call) => call.path.startsWith(notePath) && call.method !== 'GET').map((call) => `${call.method} ${call.path}`);
    expect(writes).toEqual([`POST ${notePath}`, `PUT ${notePath}/501`]);
    expect(gitlab.ours()).toHaveLength(1);
    expect(gitlab.ours()[0]?.body).toContain(`Commit \`${second}\``);
    expect(gitlab.ours()[0]?.body).toMatch(/update +web-1/);
    expect(gitlab.authRefused).toBe(0);
  });

  it('plans the commit the delivery names even when the merge request moved on before the plan ran', async () => {
    const first = world.source.commitOnRef(HEAD_REF, 'first', { 'services/api/notes': 'one' });
    world.source.commitOnRef(HEAD_REF, 'second', { 'services/api/notes': 'two' });
    publisher.pullRequest(mergeRequest(first));
    await publisher.drain();
    expect(gitlab.statuses('tend/plan').map((one) => [one.sha, one.state])).toEqual([
      [first, 'pending'],
      [first, 'success'],
    ]);
  });

  it('takes GitLab\'s refusal of pending over pending (one head delivered twice) as published', async () => {
    const api = gitHostApi({ provider: 'gitlab', apiUrl: gitlab.url, token: TOKEN, repository: 'acme/deploy' });
    const sha = 'e'.repeat(40);
    const pending = { sha, context: 'tend/plan', state: 'pending', description: 'planning' } as const;
    await api.setStatus(pending, undefined);
    await expect(api.setStatus(pending, undefined)).resolves.toBeUndefined();
    expect(gitlab.calls.filter((call) => call.path.endsWith(`/statuses/${sha}`))).toHaveLength(2);
  });

  it('publishes failed with the first issue at file:line:col for an invalid head', async () => {
    const broken = world.source.commitOnRef(HEAD_REF, 'typo', { 'services/queue/spec.yml': 'service:\n  name: queue\n  group: web\n  deploy:\n    serail: 1\n' });
    publisher.pullRequest(mergeRequest(broken));
    await publisher.drain();
    expect(gitlab.statuses('tend/plan').at(-1)).toMatchObject({ sha: broken, state: 'failed', description: expect.stringMatching(/^invalid \(\d+ errors?\): services\/queue\/spec\.yml:5:5: /) });
    expect(gitlab.ours()[0]?.body).toContain('services/queue/spec.yml:5:5: ');
  });

  it('does not plan a merge request from another project unless configured to', async () => {
    const head = world.source.commitOnRef(HEAD_REF, 'x', { 'services/api/notes': 'x' });
    expect(publisher.pullRequest(mergeRequest(head, true))).toEqual({ accepted: false, reason: expect.stringMatching(/fork; githost.plan_forks is off/) });
    await publisher.drain();
    expect(gitlab.calls).toEqual([]);
  });
});

describe('GitLab deploy results on the followed branch', () => {
  it('publishes tend/deploy pending when a rollout starts and success when every host is healthy', async () => {
    const good = world.landApi('2.0.0');
    await world.settle('webhook');
    await publisher.drain();
    expect(gitlab.statuses('tend/deploy').filter((one) => one.sha === good).map((one) => one.state)).toEqual(['pending', 'success']);
  });

  it('publishes failed with the error code and the revert commit for a commit tend reverts', async () => {
    const bad = world.landApi('3.1.0', 'crash');
    await world.settle('webhook');
    await publisher.drain();
    const revert = world.source.head;
    const ofBad = gitlab.statuses('tend/deploy').filter((one) => one.sha === bad);
    expect(ofBad.at(-1)).toMatchObject({ state: 'failed', description: expect.stringMatching(new RegExp(`^api: E_UNIT_FAILED on web-1.*; reverted by ${revert}$`)) });
    expect(gitlab.statuses('tend/deploy').filter((one) => one.sha === revert).at(-1)?.state).toBe('success');
  });

  it('with the API down, retries each call within its budget, counts it lost, and never holds up a rollout', async () => {
    gitlab.down = true;
    const good = world.landApi('2.0.1');
    await world.settle('webhook');
    expect(world.reconciler.status.lastApplied).toBe(good);
    await publisher.drain();
    const attempts = new Map<string, number>();
    for (const call of gitlab.calls.filter((one) => one.path === `/api/v4/projects/acme%2Fdeploy/statuses/${good}`)) {
      const state = String(call.body?.['state']);
      attempts.set(state, (attempts.get(state) ?? 0) + 1);
    }
    expect(Object.fromEntries(attempts)).toEqual({ pending: 4, success: 4 });
    expect(sleeps.slice(0, 3)).toEqual([1_000, 2_000, 4_000]);
    expect(losses).toEqual(['gave up status', 'gave up status']);
  });

  it('gives up at once on a refused token, and says so without the token', async () => {
    const refused = createGitHostPublisher({
      api: gitHostApi({ provider: 'gitlab', apiUrl: gitlab.url, token: 'glpat-wrong', repository: 'acme/deploy' }),
      repository: 'acme/deploy',
      planForks: false,
      plan: async () => {
        throw new Error('not planned here');
      },
      statusUrl: undefined,
      logger: createLogger({ destination: new Writable({ write: (chunk: Buffer, _encoding, done) => (logLines.push(chunk.toString('utf8')), done()) }) }),
      losses: { gaveUp: (kind) => losses.push(`gave up ${kind}`), dropped: () => undefined },
    });
    refused.observe(world.reconciler.status);
    world.onStatus = (status) => refused.observe(status);
    world.landApi('2.0.2');
    await world.settle('webhook');
    await refused.drain();
    expect(gitlab.authRefused).toBe(2);
    expect(losses).toEqual(['gave up status', 'gave up status']);
    expect(logLines.join('')).toContain('answered HTTP 401');
    expect(logLines.join('')).not.toContain('glpat-wrong');
  });
});
