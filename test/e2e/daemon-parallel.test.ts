import { createHash } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DaemonStatus } from '../../src/status/index.js';
import { buildTend } from '../support/tend-cli.js';
import { apiScriptAt, DaemonUnderTest, eventsNamed, exampleOnGitServer, fileAt, remoteLog, versionOn, wipeTendState } from './daemon-support.js';
import type { GitServer } from './harness/git-server.js';
import type { TestHost } from './harness/hosts.js';
import { useHosts } from './harness/use-hosts.js';

/**
 * Issue 14, independent services roll out together: api and queue (no `after:` between them) side by side,
 * gateway (`after: [api]`) only once api is healthy; and when one of a commit's services fails, the revert
 * of that commit undoes the other's change too, behind its probes, leaving alone what an earlier commit
 * rolled out. web-1 = host-1, web-2 = host-2, batch-1 = host-3.
 */

const REPO = 'deploy';

let hosts: TestHost[];
let gitServer: GitServer;
let secretsDir: string;
let apiScript: string;
let daemon: DaemonUnderTest;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function web(index: 0 | 1): TestHost {
  const found = hosts[index];
  if (found === undefined) throw new Error('no web host');
  return found;
}

function converged(status: DaemonStatus): boolean {
  return status.lastApplied !== undefined && status.lastApplied === status.source.head && status.inFlight === undefined;
}

/** queue.sh with this VERSION, and its spec with the sha256 pin that goes with it. */
async function queueAt(version: string, at: string): Promise<Record<string, string>> {
  const script = (await fileAt(gitServer, REPO, at, 'services/queue/queue.sh')).replace(/^VERSION=.*$/m, `VERSION=${version}`);
  const spec = (await fileAt(gitServer, REPO, at, 'services/queue/spec.yml')).replace(/sha256: [0-9a-f]{64}/, `sha256: ${createHash('sha256').update(script).digest('hex')}`);
  return { 'services/queue/queue.sh': script, 'services/queue/spec.yml': spec };
}

/** What queue answers on a host: `queue <version>`. */
function queueVersionOn(target: TestHost): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let reply = '';
    socket.setTimeout(5_000, () => socket.destroy(new Error('queue did not answer')));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('utf8');
    });
    socket.on('close', () => resolve(/^queue (\S+)/.exec(reply)?.[1] ?? reply.trim()));
    socket.on('error', reject);
    socket.connect(9000, target.address);
  });
}

/** From a service's first host step to its last healthy host, from the daemon's progress events. */
function interval(events: readonly Record<string, unknown>[], service: string, rolloutId: unknown): { start: number; end: number } {
  const steps = events.filter((event) => event['service'] === service && event['rolloutId'] === rolloutId && typeof event['phase'] === 'string');
  const times = steps.map((event) => Date.parse(String(event['time'])));
  const healthy = steps.filter((event) => event['phase'] === 'healthy').map((event) => Date.parse(String(event['time'])));
  return { start: Math.min(...times), end: Math.max(...healthy) };
}

async function settledAt(commit: string, timeoutMs: number): Promise<DaemonStatus> {
  return daemon.waitFor(`${commit.slice(0, 12)} applied`, (status) => converged(status) && status.lastApplied === commit, timeoutMs);
}

beforeAll(async () => {
  [hosts] = await Promise.all([useHosts(3), buildTend()]);
  await Promise.all(hosts.map((target) => wipeTendState(target)));
  ({ gitServer, secretsDir, apiScript } = await exampleOnGitServer(REPO));
  const stateDir = await mkdtemp(join(tmpdir(), 'tend-e2e-state-'));
  daemon = await DaemonUnderTest.start({ repoUrl: gitServer.repoUrl(REPO), sshKey: web(0).privateKeyPath, secretsDir, stateDir, pollInterval: '2s' });
  await daemon.waitFor('the first commit applied', converged, 240_000);
});

afterAll(async () => {
  const result = await daemon?.stop();
  expect(result?.code).toBe(0);
  await gitServer?.close();
  await Promise.all((hosts ?? []).map((target) => wipeTendState(target)));
});

describe('independent services roll out together', () => {
  it('rolls api and queue out side by side, and gateway (after api) only once api is healthy', async () => {
    const head = await gitServer.head(REPO);
    const gatewaySpec = (await fileAt(gitServer, REPO, head, 'services/gateway/spec.yml')).replace('UPSTREAM=http://127.0.0.1:8080', 'UPSTREAM=http://127.0.0.1:8080\n    RELEASE=2');
    const commit = await gitServer.landCommit(REPO, {
      message: 'api 2.0.0, queue 2.0.0, gateway release 2',
      files: { 'services/api/api': apiScriptAt(apiScript, '2.0.0'), ...(await queueAt('2.0.0', head)), 'services/gateway/spec.yml': gatewaySpec },
    });
    await settledAt(commit, 180_000);
    const events = daemon.events();
    const started = eventsNamed(events, 'rollout started', { commit }).at(-1);
    const api = interval(events, 'api', started?.['rolloutId']);
    const queue = interval(events, 'queue', started?.['rolloutId']);
    const gateway = interval(events, 'gateway', started?.['rolloutId']);
    console.log(`api ${api.start}..${api.end}, queue ${queue.start}..${queue.end}, gateway ${gateway.start}..${gateway.end} (ms since the epoch)`);
    expect(api.start < queue.end && queue.start < api.end, 'api and queue steps overlap in time').toBe(true);
    expect(gateway.start, 'gateway starts after api is healthy').toBeGreaterThanOrEqual(api.end);
    expect(await versionOn(web(0), 8080)).toBe('2.0.0');
    expect(await queueVersionOn(web(1))).toBe('2.0.0');
  }, 240_000);

  it('reverts a commit whose api fails: queue goes back too, behind its probe, to what an earlier commit rolled out', async () => {
    const earlier = await gitServer.landCommit(REPO, { message: 'queue 2.5.0 alone', files: await queueAt('2.5.0', await gitServer.head(REPO)) });
    await settledAt(earlier, 120_000);
    expect(await queueVersionOn(web(0))).toBe('2.5.0');

    const bad = await gitServer.landCommit(REPO, {
      message: 'api 3.0.0 (crashes) with queue 3.0.0',
      files: { 'services/api/api': apiScriptAt(apiScript, '3.0.0', 'exits'), ...(await queueAt('3.0.0', earlier)) },
    });
    const status = await daemon.waitFor('the revert applied', (one) => converged(one) && one.lastApplied !== bad && one.lastApplied !== earlier, 240_000);
    await sleep(3_000);
    const revert = (await remoteLog(gitServer, REPO))[0];
    expect(revert?.message).toMatch(/^Revert "api 3\.0\.0 \(crashes\) with queue 3\.0\.0"/);
    expect(revert?.message).toContain(`This reverts commit ${bad}.`);
    expect(status.lastApplied).toBe(revert?.sha);
    for (const target of [web(0), web(1)]) {
      expect(await versionOn(target, 8080), `api on ${target.name}`).toBe('2.0.0');
      expect(await queueVersionOn(target), `queue on ${target.name}`).toBe('2.5.0');
    }
    // queue was healthy at the bad commit on the hosts it reached before api failed, and each of those was
    // rolled back by the revert's own rollout, probed until healthy again.
    const events = daemon.events();
    const queueHosts = (commit: string | undefined, phase: string) =>
      new Set(events.filter((event) => event['service'] === 'queue' && event['commit'] === commit && event['phase'] === phase).map((event) => String(event['host'])));
    const reachedBad = queueHosts(bad, 'restart');
    console.log(`queue restarted at the bad commit on ${[...reachedBad].join(', ')}; probed back on ${[...queueHosts(revert?.sha, 'probe')].join(', ')}`);
    expect(reachedBad.size, 'queue 3.0.0 reached a host before the revert').toBeGreaterThan(0);
    for (const host of reachedBad) {
      expect(queueHosts(revert?.sha, 'probe').has(host), `queue probed on ${host} after its rollback`).toBe(true);
      expect(queueHosts(revert?.sha, 'healthy').has(host), `queue healthy on ${host} after its rollback`).toBe(true);
    }
    expect(status.services.find((one) => one.service === 'queue')?.state).toBe('Synced');
    expect(status.services.find((one) => one.service === 'api')?.state).toBe('RolledBack');
  }, 300_000);
});
