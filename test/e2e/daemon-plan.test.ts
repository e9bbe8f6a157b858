import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DaemonStatus } from '../../src/status/index.js';
import { FakeGitHost } from '../support/fake-git-host.js';
import { FakeGitLab } from '../support/fake-gitlab.js';
import { freePort } from '../support/free-port.js';
import { buildTend, runTend, type TendRun } from '../support/tend-cli.js';
import {
  API_TOKEN_SECRET,
  apiScriptAt,
  daemonConfigArgs,
  DaemonUnderTest,
  exampleOnGitServer,
  GIT_PASSWORD,
  RESYNC_NEVER,
  versionOn,
  WEBHOOK_SECRET,
  wipeTendState,
  type DaemonConfigOptions,
} from './daemon-support.js';
import type { GitServer } from './harness/git-server.js';
import type { TestHost } from './harness/hosts.js';
import { useHosts } from './harness/use-hosts.js';

/**
 * Issue 17 item 1 end to end: `tend plan --daemon URL --ref REF` asks a running `tend run` (following main of
 * the real smart-HTTP git server, deployed to the three systemd hosts) to plan another ref with its own key
 * and secrets. The branch it follows and the hosts stay as they were. Issue 17 items 2 and 3 through the
 * real daemon: with `githost` pointing at a fake GitHub API on loopback, a signed pull_request webhook gets
 * a tend/plan status and a comment, and the applied commit a tend/deploy status. Issue 17 item 4: with
 * `healthy_refs`, the server's refs/tend/healthy/<service> point at the applied commit. Then the same daemon,
 * restarted with `githost.provider: gitlab` against a fake GitLab API, plans a merge request's
 * refs/merge-requests/<iid>/head from the real git server. web-1 = host-1, web-2 = host-2.
 */

const run = promisify(execFile);
const REPO = 'deploy';
let hosts: TestHost[];
let gitServer: GitServer;
let apiScript: string;
let daemon: DaemonUnderTest;
let applied: string;
let gitHost: FakeGitHost;
let gitLab: FakeGitLab | undefined;
let daemonConfig: DaemonConfigOptions;
const outputs: string[] = [];
const GITHOST_TOKEN = 'githost-token-canary-e2e-41c7';

function host(name: 'web-1' | 'web-2'): TestHost {
  const found = hosts[name === 'web-1' ? 0 : 1];
  if (found === undefined) throw new Error(`no test host for ${name}`);
  return found;
}

/** A branch of the server's repo, started at main, with one commit of `files` on it; returns that commit. */
async function branchWith(branch: string, message: string, files: Record<string, string>): Promise<string> {
  await run('git', ['--git-dir', gitServer.repoPath(REPO), 'branch', branch, 'main']);
  return gitServer.landCommit(REPO, { branch, message, files });
}

async function planOnDaemon(ref: string, json = false): Promise<TendRun> {
  const result = await runTend(['plan', '--daemon', daemon.url, '--ref', ref, '--token-file', join(daemon.stateDir, 'api-token'), ...(json ? ['--json'] : [])]);
  outputs.push(result.stdout, result.stderr);
  return result;
}

function settledAt(sha: string) {
  return (status: DaemonStatus) => status.lastApplied === sha && status.inFlight === undefined;
}

beforeAll(async () => {
  let secretsDir: string;
  [hosts] = await Promise.all([useHosts(3), buildTend()]);
  await Promise.all(hosts.map((target) => wipeTendState(target)));
  ({ gitServer, secretsDir, apiScript } = await exampleOnGitServer(REPO));
  gitHost = new FakeGitHost(GITHOST_TOKEN, 'acme/deploy');
  await gitHost.start();
  const tokenFile = join(secretsDir, 'githost_token');
  await writeFile(tokenFile, `${GITHOST_TOKEN}\n`, { mode: 0o600 });
  const stateDir = await mkdtemp(join(tmpdir(), 'tend-e2e-plan-'));
  const port = await freePort();
  const config: DaemonConfigOptions = {
    repoUrl: gitServer.repoUrl(REPO),
    sshKey: host('web-1').privateKeyPath,
    secretsDir,
    stateDir,
    pollInterval: '2s',
    retry: { maxAttempts: 3, baseDelay: '500ms', maxDelay: '2s' },
    resync: RESYNC_NEVER,
    extra: { githost: { provider: 'github', api_url: gitHost.url, repository: 'acme/deploy' }, healthy_refs: true },
  };
  daemonConfig = config;
  daemon = await DaemonUnderTest.startWith(await daemonConfigArgs(config, port), port, stateDir);
  applied = await gitServer.head(REPO);
  await daemon.waitFor('the first commit applied', settledAt(applied), 240_000);
}, 300_000);

afterAll(async () => {
  const stopped = await daemon?.stop();
  if (stopped !== undefined) outputs.push(stopped.stdout, stopped.stderr);
  // The secret the plan compared env files with, and the git password, appear in no output of either side.
  const everything = outputs.join('\n');
  expect(everything).not.toContain(API_TOKEN_SECRET);
  expect(everything).not.toContain(GIT_PASSWORD);
  expect(everything).not.toContain(GITHOST_TOKEN);
  const published = [...(gitHost?.calls ?? []), ...(gitLab?.calls ?? [])].map((call) => JSON.stringify(call)).join('\n');
  expect(published).not.toContain(API_TOKEN_SECRET);
  expect(published).not.toContain(GITHOST_TOKEN);
  await gitHost?.close();
  await gitLab?.close();
  await gitServer?.close();
  await Promise.all((hosts ?? []).map((target) => wipeTendState(target)));
});

/** refs/tend/healthy/* as the server's repository has them, service → commit. */
async function healthyRefsOnServer(): Promise<Record<string, string>> {
  const { stdout } = await run('git', ['ls-remote', gitServer.repoPath(REPO), 'refs/tend/healthy/*']);
  return Object.fromEntries(stdout.split('\n').filter((line) => line !== '').map((line) => {
    const [sha = '', ref = ''] = line.split('\t');
    return [ref.slice('refs/tend/healthy/'.length), sha];
  }));
}

describe('healthy_refs', () => {
  it('moves refs/tend/healthy/<service> on the git server to the applied commit of every service; main is untouched', async () => {
    const services = (await daemon.status()).services.map((one) => one.service).sort();
    expect(services.length).toBeGreaterThan(0);
    const want = Object.fromEntries(services.map((service) => [service, applied]));
    // The pushes run beside the pass loop, after the status that made the services healthy.
    const deadline = Date.now() + 30_000;
    let refs = await healthyRefsOnServer();
    while (JSON.stringify(refs) !== JSON.stringify(want) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      refs = await healthyRefsOnServer();
    }
    expect(refs).toEqual(want);
    expect(await gitServer.head(REPO)).toBe(applied);
    expect(daemon.events().filter((event) => event['msg'] === 'healthy ref moved').map((event) => event['ref']).sort()).toEqual(services.map((service) => `refs/tend/healthy/${service}`));
  });
});

describe('tend plan --daemon', () => {
  it('prints the per-host plan of a branch with a version bump (exit 2); main and the hosts stay as they were', async () => {
    const bump = await branchWith('bump', 'api 2.0.1', { 'services/api/api': apiScriptAt(apiScript, '2.0.1') });
    const result = await planOnDaemon('bump');
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(result.stdout).toContain(`Plan of bump (${bump.slice(0, 12)}):`);
    expect(result.stdout).toMatch(/^api\n {2}batch 1:\n {4}update +web-1 /m);
    expect(result.stdout).toMatch(/^ {4}update +web-2 /m);
    expect(result.stdout).toContain('Not planned (bump does not change them): gateway, queue, reports.');
    expect(result.stdout).toMatch(/^Plan: 0 to create, 2 to update, /m);

    const json = await planOnDaemon('bump', true);
    expect(json.code, json.stderr).toBe(2);
    const answer = JSON.parse(json.stdout) as { verdict: string; sha: string; services: string[]; plan: { services: { service: string; batches: { host: string; action: string }[][] }[] } };
    expect(answer).toMatchObject({ verdict: 'changes', sha: bump, services: ['api'] });
    expect(answer.plan.services.map((one) => `${one.service}: ${one.batches.flat().map((step) => `${step.action} ${step.host}`).join(', ')}`)).toEqual(['api: update web-1, update web-2']);

    // Untouched: the followed branch, what the daemon applied, and what the hosts run, a few polls later.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    expect(await gitServer.head(REPO)).toBe(applied);
    expect((await daemon.status()).lastApplied).toBe(applied);
    expect(daemon.events().filter((event) => event['msg'] === 'rollout started' && event['commit'] === bump)).toEqual([]);
    expect(await versionOn(host('web-1'), 8080)).toBe('1.0.0');
    expect(await versionOn(host('web-2'), 8080)).toBe('1.0.0');
  });

  it("plans a pull request's head ref and a bare commit sha as it plans a branch", async () => {
    const head = await gitServer.head(REPO, 'bump');
    await run('git', ['--git-dir', gitServer.repoPath(REPO), 'update-ref', 'refs/pull/7/head', head]);
    const pull = await planOnDaemon('refs/pull/7/head');
    expect(pull.code, pull.stdout + pull.stderr).toBe(2);
    expect(pull.stdout).toMatch(/^ {4}update +web-1 /m);
    const unfetched = await branchWith('sha-only', 'api 2.0.2', { 'services/api/api': apiScriptAt(apiScript, '2.0.2') });
    const bySha = await planOnDaemon(unfetched);
    expect(bySha.code, bySha.stdout + bySha.stderr).toBe(2);
    expect(bySha.stdout).toContain(`(${unfetched.slice(0, 12)}):`);
  });

  it('answers an invalid branch with its issues at file:line:col (exit 1), and a missing one with E_PLAN_REF_MISSING', async () => {
    const spec = (await run('git', ['--git-dir', gitServer.repoPath(REPO), 'show', 'main:services/api/spec.yml'])).stdout;
    await branchWith('broken', 'api: typo', { 'services/api/spec.yml': spec.replace('    serial: 1\n', '    serail: 1\n') });
    const broken = await planOnDaemon('broken');
    expect(broken.code, broken.stdout + broken.stderr).toBe(1);
    expect(broken.stderr).toMatch(/^services\/api\/spec\.yml:\d+:\d+: .*\(E_SCHEMA\)$/m);
    const missing = await planOnDaemon('no-such-branch');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('(E_PLAN_REF_MISSING)');
    expect(await gitServer.head(REPO)).toBe(applied);
  });
});

/** Polls `read` until it gives a value; on timeout, fails with the fake API's calls so far. */
async function untilRead<T>(what: string, read: () => T | undefined, calls: () => unknown, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; calls:\n${JSON.stringify(calls(), null, 2)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('the git host', () => {
  const until = <T>(what: string, read: () => T | undefined): Promise<T> => untilRead(what, read, () => gitHost.calls);

  it('got tend/deploy pending, then success, for the commit the daemon applied', async () => {
    await until('tend/deploy success', () => gitHost.statuses('tend/deploy').find((one) => one.sha === applied && one.state === 'success'));
    expect(gitHost.statuses('tend/deploy').filter((one) => one.sha === applied).map((one) => one.state)).toEqual(['pending', 'success']);
  });

  it('plans a signed pull_request webhook and publishes tend/plan and one comment, updated in place on the next push', async () => {
    const pullRequest = (sha: string) => ({
      action: 'synchronize',
      number: 7,
      pull_request: { number: 7, head: { sha, ref: 'bump', repo: { full_name: 'acme/deploy' } }, base: { ref: 'main', repo: { full_name: 'acme/deploy' } } },
    });
    const first = await gitServer.head(REPO, 'bump');
    expect((await daemon.githubEvent('pull_request', pullRequest(first))).status).toBe(202);
    await until('tend/plan of the first push', () => gitHost.statuses('tend/plan').find((one) => one.sha === first && one.state === 'success'));
    await until('the comment', () => (gitHost.comments.size === 1 ? true : undefined));
    const second = await gitServer.landCommit(REPO, { branch: 'bump', message: 'api 2.0.3', files: { 'services/api/api': apiScriptAt(apiScript, '2.0.3') } });
    expect((await daemon.githubEvent('pull_request', pullRequest(second))).status).toBe(202);
    await until('tend/plan of the second push', () => gitHost.statuses('tend/plan').find((one) => one.sha === second && one.state === 'success'));
    await until('the comment updated', () => ([...gitHost.comments.values()][0]?.body.includes(second) === true ? true : undefined));
    expect(gitHost.statuses('tend/plan').filter((one) => one.sha === second).map((one) => `${one.state}: ${one.description}`)).toEqual(['pending: planning', 'success: valid; 2 to update in api']);
    expect(gitHost.calls.filter((call) => call.path.includes('/comments') && call.method !== 'GET').map((call) => call.method)).toEqual(['POST', 'PATCH']);
    expect([...gitHost.comments.values()][0]?.body).toMatch(/update +web-1/);
    expect(gitHost.authRefused).toBe(0);
    expect(await gitServer.head(REPO)).toBe(applied);
  });

  it("plans a pull request whose head is on no branch (a fork's: only refs/pull/<n>/head holds it)", async () => {
    const head = await branchWith('in-a-fork', 'api 2.0.8', { 'services/api/api': apiScriptAt(apiScript, '2.0.8') });
    const bare = gitServer.repoPath(REPO);
    await run('git', ['--git-dir', bare, 'update-ref', 'refs/pull/9/head', head]);
    await run('git', ['--git-dir', bare, 'update-ref', '-d', 'refs/heads/in-a-fork']);
    const event = {
      action: 'opened',
      number: 9,
      pull_request: { number: 9, head: { sha: head, ref: 'in-a-fork', repo: { full_name: 'acme/deploy' } }, base: { ref: 'main', repo: { full_name: 'acme/deploy' } } },
    };
    expect((await daemon.githubEvent('pull_request', event)).status).toBe(202);
    const final = await until('the final tend/plan of the head', () => gitHost.statuses('tend/plan').find((one) => one.sha === head && one.state !== 'pending'));
    expect(`${final.state}: ${final.description}`).toBe('success: valid; 2 to update in api');
  });
});

describe('GitLab', () => {
  const until = <T>(what: string, read: () => T | undefined): Promise<T> => untilRead(what, read, () => gitLab?.calls);

  async function mergeRequestHook(iid: number, sha: string, oldrev: string | undefined): Promise<number> {
    const body = JSON.stringify({
      object_kind: 'merge_request',
      project: { path_with_namespace: 'acme/deploy' },
      object_attributes: { iid, action: oldrev === undefined ? 'open' : 'update', ...(oldrev === undefined ? {} : { oldrev }), target_branch: 'main', source_project_id: 1, target_project_id: 1, last_commit: { id: sha } },
    });
    const response = await fetch(`${daemon.url}/hooks/git`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-gitlab-event': 'Merge Request Hook', 'x-gitlab-token': WEBHOOK_SECRET },
      body,
      signal: AbortSignal.timeout(5000),
    });
    await response.body?.cancel();
    return response.status;
  }

  it('plans a Merge Request Hook at refs/merge-requests/<iid>/head and keeps one note, updated in place on the next push', async () => {
    gitLab = new FakeGitLab(GITHOST_TOKEN, 'acme/deploy');
    await gitLab.start();
    const stopped = await daemon.stop();
    outputs.push(stopped.stdout, stopped.stderr);
    const port = Number(new URL(daemon.url).port);
    daemon = await DaemonUnderTest.startWith(await daemonConfigArgs({ ...daemonConfig, extra: { githost: { provider: 'gitlab', api_url: gitLab.url, repository: 'acme/deploy' } } }, port), port, daemonConfig.stateDir);
    await daemon.waitFor('the applied commit, resumed', settledAt(applied), 120_000);

    // GitLab keeps a merge request's head under refs/merge-requests/<iid>/head, whichever project it came from.
    const repo = gitServer.repoPath(REPO);
    const first = await branchWith('mr', 'api 2.0.5', { 'services/api/api': apiScriptAt(apiScript, '2.0.5') });
    await run('git', ['--git-dir', repo, 'update-ref', 'refs/merge-requests/12/head', first]);
    expect(await mergeRequestHook(12, first, undefined)).toBe(202);
    const lab = gitLab;
    await until('tend/plan of the first push', () => lab.statuses('tend/plan').find((one) => one.sha === first && one.state === 'success'));
    await until('the note', () => (lab.ours().length === 1 ? true : undefined));
    const second = await gitServer.landCommit(REPO, { branch: 'mr', message: 'api 2.0.6', files: { 'services/api/api': apiScriptAt(apiScript, '2.0.6') } });
    await run('git', ['--git-dir', repo, 'update-ref', 'refs/merge-requests/12/head', second]);
    expect(await mergeRequestHook(12, second, first)).toBe(202);
    await until('tend/plan of the second push', () => lab.statuses('tend/plan').find((one) => one.sha === second && one.state === 'success'));
    await until('the note updated', () => (lab.ours()[0]?.body.includes(second) === true ? true : undefined));
    expect(lab.statuses('tend/plan').filter((one) => one.sha === second).map((one) => `${one.state}: ${one.description}`)).toEqual(['pending: planning', 'success: valid; 2 to update in api']);
    expect(lab.calls.filter((call) => call.path.includes('/notes') && call.method !== 'GET').map((call) => call.method)).toEqual(['POST', 'PUT']);
    expect(lab.ours()).toHaveLength(1);
    expect(lab.ours()[0]?.body).toMatch(/update +web-1/);
    expect(lab.authRefused).toBe(0);
    expect(await gitServer.head(REPO)).toBe(applied);
    expect(await versionOn(host('web-1'), 8080)).toBe('1.0.0');
  });
});
