import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DaemonStatus, ServiceStatus } from '../../src/status/index.js';
import { freePort } from '../support/free-port.js';
import { buildTend } from '../support/tend-cli.js';
import {
  daemonConfigArgs,
  DaemonUnderTest,
  eventsNamed,
  exampleOnGitServer,
  RESYNC_NEVER,
  unreachableInventory,
  type DaemonConfigOptions,
} from './daemon-support.js';
import type { GitServer } from './harness/git-server.js';
import { runCommand } from './harness/run-command.js';

/**
 * Issue 12, without a host: the example's four services on hosts where nothing answers (127.0.0.2, port 1).
 * A transient failure gets one retry budget per (head, service), whatever polls, webhooks and restarts
 * come; then every service is Stalled E_RETRIES_EXHAUSTED with a `since` that stays put; `tend retry api`
 * buys exactly one more attempt. And webhooks act only on a push to the followed branch.
 */

const REPO = 'deploy';
const SERVICES = ['api', 'gateway', 'queue', 'reports'];
/** Small, so the budget is spent in the first seconds and everything after is the daemon keeping still. */
const MAX_ATTEMPTS = 3;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let gitServer: GitServer;
let secretsDir: string;
let sshKey: string;
/** Every daemon process of the running test, so afterEach stops what a failed assertion left running. */
const running = new Set<DaemonUnderTest>();

async function start(options: { pollInterval: string; maxAttempts: number }): Promise<DaemonUnderTest> {
  const stateDir = await mkdtemp(join(tmpdir(), 'tend-e2e-state-'));
  const config: DaemonConfigOptions = {
    repoUrl: gitServer.repoUrl(REPO),
    sshKey,
    secretsDir,
    stateDir,
    pollInterval: options.pollInterval,
    resync: RESYNC_NEVER,
    retry: { maxAttempts: options.maxAttempts, baseDelay: '100ms', maxDelay: '300ms' },
  };
  const port = await freePort();
  const tend = await DaemonUnderTest.startWith(await daemonConfigArgs(config, port), port, stateDir);
  running.add(tend);
  return tend;
}

async function stop(tend: DaemonUnderTest): Promise<Record<string, unknown>[]> {
  const events = tend.events();
  const result = await tend.stop();
  running.delete(tend);
  expect(result.code, result.stderr.slice(-2000)).toBe(0);
  return events;
}

function service(status: DaemonStatus | undefined, name: string): ServiceStatus | undefined {
  return status?.services.find((one) => one.service === name);
}

/** service -> its state, code and since: what must not move while nothing changes. */
function stateSince(status: DaemonStatus | undefined): Record<string, string> {
  return Object.fromEntries((status?.services ?? []).map((one) => [one.service, `${one.state} ${one.code ?? '-'} since ${one.since}`]));
}

beforeAll(async () => {
  await buildTend();
  ({ gitServer, secretsDir } = await exampleOnGitServer(REPO, unreachableInventory));
  // No host answers, so any key will do; tend only has to be able to read one.
  const keyDir = await mkdtemp(join(tmpdir(), 'tend-e2e-key-'));
  sshKey = join(keyDir, 'id_ed25519');
  await runCommand('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', sshKey]);
});

afterEach(async () => {
  for (const tend of running) await tend.stop();
  running.clear();
});

afterAll(async () => {
  await gitServer?.close();
});

describe('one retry budget per head and service', () => {
  it('spends at most max_attempts across 40 s of polls, 10 webhooks and a restart; every service stays Stalled (gateway waits for api) with a steady since; tend retry api makes one attempt', async () => {
    const head = await gitServer.head(REPO);
    let tend = await start({ pollInterval: '1s', maxAttempts: MAX_ATTEMPTS });
    const events: Record<string, unknown>[] = [];

    // 100-300 ms backoff: the budget is spent within seconds; the rest of the 40 s only polls.
    await sleep(10_000);
    const early = await tend.cliStatus();
    await sleep(10_000);
    for (let hook = 0; hook < 10; hook += 1) {
      expect(await tend.webhook()).toBe(202);
      await sleep(500);
    }
    const beforeRestart = await tend.cliStatus();
    events.push(...(await stop(tend)));
    tend = await tend.startAgain();
    running.add(tend);
    await sleep(15_000);
    const late = await tend.cliStatus();
    const starts = [...events, ...tend.events()].filter((event) => event['msg'] === 'rollout started');
    console.log(`rollout started events in ~40 s with head ${head.slice(0, 12)} unchanged: ${starts.length} (budget ${MAX_ATTEMPTS})`);
    console.log(`since (api) at 10 s, before the restart, at the end: ${[early, beforeRestart, late].map(({ json }) => service(json, 'api')?.since).join(', ')}`);

    // The budget is per (head, service): each service's backoff has its own jitter, so one `rollout started`
    // event may carry one service or several; what is bounded is the attempts of each service.
    for (const name of SERVICES) {
      const attempts = starts.filter((event) => (event['services'] as string[] | undefined)?.includes(name)).length;
      expect.soft(attempts, `rollout attempts of ${name} across polls, webhooks and a restart`).toBeLessThanOrEqual(MAX_ATTEMPTS);
    }
    expect.soft(starts.length).toBeGreaterThanOrEqual(1);
    expect.soft(late.json?.services.map((one) => one.service).sort(), 'tend status --json lists every service of the commit').toEqual(SERVICES);
    for (const name of SERVICES.filter((one) => one !== 'gateway')) {
      expect.soft(service(late.json, name), `${name} in tend status --json`).toMatchObject({ state: 'Stalled', code: 'E_RETRIES_EXHAUSTED', errorClass: 'transient' });
    }
    // gateway comes `after: [api]`: it waits for api instead of spending a budget of its own.
    expect.soft(service(late.json, 'gateway'), 'gateway in tend status --json').toMatchObject({ state: 'Waiting', code: 'W_DEPENDENCY' });
    // The state did not change, so neither did since: not across polls, not across webhooks, not across a restart.
    expect.soft(stateSince(early.json), 'since at 10 s vs before the restart').toEqual(stateSince(beforeRestart.json));
    expect.soft(stateSince(late.json), 'since before the restart vs at the end').toEqual(stateSince(beforeRestart.json));

    const unknown = await tend.cliStatus('nosuch');
    expect.soft(unknown.run.code, `tend status nosuch: ${unknown.run.stdout}${unknown.run.stderr}`).toBe(1);

    const startsBeforeRetry = eventsNamed(tend.events(), 'rollout started').length;
    const retry = await tend.retry('api');
    console.log(`tend retry api: exit ${retry.code}: ${retry.stdout.trim()} ${retry.stderr.trim()}`);
    expect(retry.code, retry.stderr).toBe(0);
    expect.soft((JSON.parse(retry.stdout) as { cleared?: string[] }).cleared, 'tend retry api clears api').toEqual(['api']);
    // Ten polls later: one attempt, not a new budget.
    await sleep(10_000);
    const retried = eventsNamed(tend.events(), 'rollout started').slice(startsBeforeRetry).filter((event) => (event['services'] as string[] | undefined)?.includes('api')).length;
    console.log(`rollout started events in 10 s after tend retry api: ${retried}`);
    expect.soft(retried, 'attempts after tend retry api').toBe(1);
    const after = await tend.cliStatus();
    expect.soft(service(after.json, 'api'), 'api after its one retried attempt').toMatchObject({ state: 'Stalled', code: 'E_RETRIES_EXHAUSTED' });
    const othersBefore = Object.fromEntries(Object.entries(stateSince(late.json)).filter(([name]) => name !== 'api'));
    const othersAfter = Object.fromEntries(Object.entries(stateSince(after.json)).filter(([name]) => name !== 'api'));
    expect.soft(othersAfter, 'the other services keep their stall and since').toEqual(othersBefore);
    expect(await gitServer.head(REPO), 'nothing pushed').toBe(head);
  }, 150_000);
});

describe('webhooks act only on a push to the followed branch', () => {
  it('answers ping 200, ignores another branch, a tag and a create event with 202 and no pass, and makes one pass for a push to main', async () => {
    const tend = await start({ pollInterval: '1h', maxAttempts: 1 });
    // Let the startup pass and its one attempt finish: then only a webhook can make tend fetch.
    await quietGitServer();
    const passes = () => eventsNamed(tend.events(), 'pass started', { reason: 'webhook' }).length;
    const fetches = () => gitServer.requests.length;

    const ignored = [
      { name: 'ping', event: 'ping', payload: { zen: 'Keep it logically awesome.', hook_id: 1 }, status: 200 },
      { name: 'a push to another branch', event: 'push', payload: { ref: 'refs/heads/feature', after: 'f'.repeat(40) }, status: 202 },
      { name: 'a tag push', event: 'push', payload: { ref: 'refs/tags/v1.0.0', after: 'e'.repeat(40) }, status: 202 },
      { name: 'a create event', event: 'create', payload: { ref: 'feature', ref_type: 'branch' }, status: 202 },
    ];
    for (const one of ignored) {
      const fetchesBefore = fetches();
      const answer = await tend.githubEvent(one.event, one.payload);
      await sleep(2_000);
      console.log(`${one.name}: ${answer.status} ${JSON.stringify(answer.body)}; git requests after it: ${fetches() - fetchesBefore}`);
      expect.soft(answer.status, `${one.name}: status`).toBe(one.status);
      if (one.status === 202) expect.soft(answer.body['ignored'], `${one.name}: {ignored: reason}`).toEqual(expect.any(String));
      expect.soft(fetches() - fetchesBefore, `${one.name}: git requests (a pass fetches)`).toBe(0);
      expect.soft(passes(), `${one.name}: passes with reason webhook`).toBe(0);
    }

    const fetchesBefore = fetches();
    const push = await tend.githubEvent('push', { ref: 'refs/heads/main', after: await gitServer.head(REPO) });
    expect(push.status).toBe(202);
    await sleep(3_000);
    console.log(`push to main: ${push.status} ${JSON.stringify(push.body)}; git requests after it: ${fetches() - fetchesBefore}; webhook passes: ${passes()}`);
    expect.soft(passes(), 'passes with reason webhook after one push to main').toBe(1);
    expect(fetches() - fetchesBefore, 'the push to main made tend fetch').toBeGreaterThan(0);
  }, 90_000);
});

/** Waits until tend has not asked the git server anything for 3 s (at most 30 s). */
async function quietGitServer(): Promise<void> {
  const deadline = Date.now() + 30_000;
  let seen = -1;
  while (Date.now() < deadline) {
    if (gitServer.requests.length === seen && seen > 0) return;
    seen = gitServer.requests.length;
    await sleep(3_000);
  }
  throw new Error(`tend kept fetching for 30 s (${gitServer.requests.length} git requests)`);
}
