import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gitHostApi, type GitHostPublisher } from '../../../src/githost/index.js';
import type { PullRequestEvent } from '../../../src/source/index.js';
import { FakeGitHost } from '../../support/fake-git-host.js';
import type { DaemonWorld } from '../daemon/support/daemon-world.js';
import { publisherWorld, SECRET_VALUE } from './support/publisher-world.js';

/**
 * The git host publisher against a local HTTP server implementing the endpoints tend uses (create a commit
 * status, list, create and update issue comments) and recording every call; plans come from the daemon's
 * in-memory world, deploy results from its real reconciler.
 */

const TOKEN = 'githost-token-canary-3e9f';

let host: FakeGitHost;
let world: DaemonWorld;
let publisher: GitHostPublisher;
let logLines: string[];
let sleeps: number[];

function pullRequest(headSha: string, fork = false): PullRequestEvent {
  return { kind: 'pull-request', number: 7, headSha, repository: 'acme/deploy', fork };
}

beforeEach(async () => {
  host = new FakeGitHost(TOKEN, 'acme/deploy');
  await host.start();
  ({ world, publisher, logLines, sleeps } = await publisherWorld(gitHostApi({ provider: 'github', apiUrl: host.url, token: TOKEN, repository: 'acme/deploy' })));
});

afterEach(async () => {
  await publisher.drain();
  // Neither the API token nor a secret's value is in any log line or any body sent to the git host.
  const everything = [...logLines, ...host.calls.map((call) => JSON.stringify(call))].join('\n');
  expect(everything).not.toContain(TOKEN);
  expect(everything).not.toContain(SECRET_VALUE);
  await host.close();
});

describe('pull requests', () => {
  it('plans each push to a pull request and keeps one comment, updated in place on the second push', async () => {
    const spec = world.source.fileAt(world.source.head, 'services/api/spec.yml') ?? '';
    const first = world.source.commitOnRef('pull/7/head', 'api: debug logs', { 'services/api/spec.yml': spec.replace('API_PORT=8080', 'API_PORT=8080\n    LOG_LEVEL=debug') });
    expect(publisher.pullRequest(pullRequest(first))).toEqual({ accepted: true });
    await publisher.drain();
    const second = world.source.commitOnRef('pull/7/head', 'api: trace logs', { 'services/api/spec.yml': spec.replace('API_PORT=8080', 'API_PORT=8080\n    LOG_LEVEL=trace') });
    expect(publisher.pullRequest(pullRequest(second))).toEqual({ accepted: true });
    await publisher.drain();

    const finalOf = (sha: string) => host.statuses('tend/plan').filter((one) => one.sha === sha).at(-1);
    expect(finalOf(first)).toMatchObject({ state: 'success', description: expect.stringMatching(/^valid; 2 to update in api$/) });
    expect(finalOf(second)).toMatchObject({ state: 'success' });
    const commentCalls = host.calls.filter((call) => call.path.includes('/comments') && call.method !== 'GET').map((call) => call.method);
    expect(commentCalls).toEqual(['POST', 'PATCH']);
    expect(host.comments.size).toBe(1);
    const [comment] = [...host.comments.values()];
    expect(comment?.body).toContain(`Commit \`${second}\``);
    expect(comment?.body).toMatch(/update +web-1/);
    expect(host.authRefused).toBe(0);
  });

  it('publishes failure with the first issue at file:line:col for an invalid head', async () => {
    const broken = world.source.commitOnRef('pull/7/head', 'typo', { 'services/queue/spec.yml': 'service:\n  name: queue\n  group: web\n  deploy:\n    serail: 1\n' });
    publisher.pullRequest(pullRequest(broken));
    await publisher.drain();
    expect(host.statuses('tend/plan').at(-1)).toMatchObject({ sha: broken, state: 'failure', description: expect.stringMatching(/^invalid \(\d+ errors?\): services\/queue\/spec\.yml:5:5: /) });
    expect([...host.comments.values()][0]?.body).toContain('services/queue/spec.yml:5:5: ');
  });

  it('does not plan a pull request from a fork unless configured to', async () => {
    const head = world.source.commitOnRef('pull/7/head', 'x', { 'services/api/notes': 'x' });
    expect(publisher.pullRequest(pullRequest(head, true))).toEqual({ accepted: false, reason: expect.stringMatching(/fork; githost.plan_forks is off/) });
    await publisher.drain();
    expect(host.calls).toEqual([]);
  });
});

describe('deploy results on the followed branch', () => {
  it('publishes tend/deploy pending when a rollout starts and success when every host is healthy', async () => {
    const good = world.landApi('2.0.0');
    await world.settle('webhook');
    await publisher.drain();
    expect(host.statuses('tend/deploy').filter((one) => one.sha === good).map((one) => one.state)).toEqual(['pending', 'success']);
  });

  it('publishes failure with the error code and the revert commit for a commit tend reverts', async () => {
    const bad = world.landApi('3.1.0', 'crash');
    await world.settle('webhook');
    await publisher.drain();
    const revert = world.source.head;
    const ofBad = host.statuses('tend/deploy').filter((one) => one.sha === bad);
    expect(ofBad.at(-1)).toMatchObject({ state: 'failure', description: expect.stringMatching(new RegExp(`^api: E_UNIT_FAILED on web-1.*; reverted by ${revert}$`)) });
    expect(host.statuses('tend/deploy').filter((one) => one.sha === revert).at(-1)?.state).toBe('success');
  });

  it('with the API down, retries each call within its budget and never holds up a rollout', async () => {
    host.down = true;
    const good = world.landApi('2.0.1');
    await world.settle('webhook');
    // The rollout finished while nothing could be published.
    expect(world.reconciler.status.lastApplied).toBe(good);
    await publisher.drain();
    const attempts = new Map<string, number>();
    for (const call of host.calls.filter((one) => one.path === `/repos/acme/deploy/statuses/${good}`)) {
      const state = String(call.body?.['state']);
      attempts.set(state, (attempts.get(state) ?? 0) + 1);
    }
    // Each call: 4 attempts (maxAttempts), then given up; the waits doubled from 1 s.
    expect(Object.fromEntries(attempts)).toEqual({ pending: 4, success: 4 });
    expect(sleeps.slice(0, 3)).toEqual([1_000, 2_000, 4_000]);
    expect(logLines.some((line) => line.includes('not published to the git host; gave up'))).toBe(true);
  });
});
