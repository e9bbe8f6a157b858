import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { daemonConfigFrom } from '../../../src/daemon/daemon-config.js';
import { runDaemon, type RunningDaemon } from '../../../src/daemon/run-daemon.js';
import { createLogger } from '../../../src/observability/index.js';
import type { DaemonStatus } from '../../../src/status/index.js';
import { startEtcdCluster, type EtcdCluster } from '../../support/etcd-cluster.js';

/**
 * Two `tend run` instances with `ha`, in this process, against a real 3-member etcd on loopback. The deploy
 * repo is the example with every host at an address where nothing listens: the leader's passes find the
 * hosts unreachable, which is enough to publish a status; no host is needed.
 */
const EXAMPLE = fileURLToPath(new URL('../../../deploy-repo-example', import.meta.url));
const WAIT = { timeout: 60_000, interval: 100 };
const run = promisify(execFile);

let cluster: EtcdCluster;
let root: string;
let repo: string;
let key: string;
let secrets: string;
let prefixes = 0;
const daemons: RunningDaemon[] = [];

beforeAll(async () => {
  cluster = await startEtcdCluster(3);
  root = await mkdtemp(join(tmpdir(), 'tend-standby-'));
  repo = join(root, 'repo');
  await cp(EXAMPLE, repo, { recursive: true });
  const inventory = await readFile(join(repo, 'inventory.yml'), 'utf8');
  await writeFile(join(repo, 'inventory.yml'), inventory.replaceAll(/address: \S+/g, 'address: 127.0.0.2').replaceAll(/port: \d+/g, 'port: 1'));
  const git = (args: string[]): Promise<unknown> => run('git', ['-c', 'user.name=Ada', '-c', 'user.email=ada@tend.invalid', ...args], { cwd: repo });
  await git(['init', '--quiet', '--initial-branch=main']);
  await git(['add', '-A']);
  await git(['commit', '--quiet', '-m', 'the example, hosts unreachable']);
  key = join(root, 'id_ed25519');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
  secrets = join(root, 'secrets');
  await mkdir(secrets);
  await writeFile(join(secrets, 'api_token'), 'not-a-real-token\n');
  await writeFile(join(root, 'webhook-secret'), `${WEBHOOK_SECRET}\n`, { mode: 0o600 });
}, 600_000);

afterAll(async () => {
  await cluster.stop();
  await rm(root, { recursive: true, force: true });
});

afterEach(async () => {
  await Promise.all(daemons.splice(0).map((daemon) => daemon.stop()));
});

interface Instance {
  readonly identity: string;
  readonly daemon: RunningDaemon;
  readonly token: string;
  /** The instance's log events, as they come. */
  readonly events: Record<string, unknown>[];
}

const WEBHOOK_SECRET = 'standby-webhook-secret';

async function instance(prefix: string, identity: string): Promise<Instance> {
  const stateDir = join(root, `state-${prefixes}-${identity}`);
  await mkdir(stateDir);
  const config = daemonConfigFrom({
    source: { path: repo },
    state_dir: stateDir,
    secrets_dir: secrets,
    ssh: { key },
    listen: '127.0.0.1:0',
    webhook: { secret_file: join(root, 'webhook-secret') },
    ha: { etcd: { endpoints: [...cluster.endpoints], prefix }, lease_ttl: '3s', identity },
  });
  if (!config.ok) throw new Error(JSON.stringify(config.issues));
  const events: Record<string, unknown>[] = [];
  const destination = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') events.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const daemon = await runDaemon(config.config, createLogger({ destination }), () => undefined);
  daemons.push(daemon);
  return { identity, daemon, token: (await readFile(join(stateDir, 'api-token'), 'utf8')).trim(), events };
}

function freshPrefix(): string {
  prefixes += 1;
  return `/tend-standby-test/${process.pid}/${prefixes}`;
}

async function get(one: Instance, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`${one.daemon.url}${path}`);
  return { status: response.status, body: await response.text() };
}

async function role(one: Instance): Promise<string> {
  return ((JSON.parse((await get(one, '/readyz')).body) as { role: string }).role);
}

async function status(one: Instance): Promise<DaemonStatus> {
  return JSON.parse((await get(one, '/status')).body) as DaemonStatus;
}

/** The two instances once one leads: [leader, standby]. */
async function elected(a: Instance, b: Instance): Promise<[Instance, Instance]> {
  await vi.waitFor(async () => expect([await role(a), await role(b)].sort()).toEqual(['leader', 'standby']), WAIT);
  return (await role(a)) === 'leader' ? [a, b] : [b, a];
}

describe('tend run with ha: a leader and a standby through a real 3-member etcd', () => {
  it('one leads; the standby serves the status the leader publishes, names the leader, and refuses operator calls', async () => {
    const prefix = freshPrefix();
    const [leader, standby] = await elected(await instance(prefix, 'tend-a'), await instance(prefix, 'tend-b'));
    await vi.waitFor(async () => expect((await status(leader)).services.length).toBeGreaterThan(0), WAIT);
    const services = (await status(leader)).services.map((one) => one.service);
    await vi.waitFor(async () => expect((await status(standby)).services.map((one) => one.service)).toEqual(services), WAIT);
    const seen = await status(standby);
    expect(seen.leadership).toMatchObject({ role: 'standby', self: standby.identity, leader: { identity: leader.identity, url: leader.daemon.url }, notActing: { reason: 'standby' } });
    expect(seen.leadership?.publishedAt).toBeTypeOf('number');
    expect((await status(leader)).leadership).toMatchObject({ role: 'leader', self: leader.identity });
    expect((await status(leader)).leadership?.notActing).toBeUndefined();

    const leaderMetrics = (await get(leader, '/metrics')).body;
    const standbyMetrics = (await get(standby, '/metrics')).body;
    expect(leaderMetrics).toMatch(/^tend_leader 1$/m);
    expect(standbyMetrics).toMatch(/^tend_leader 0$/m);
    expect(standbyMetrics).toContain(`tend_leader_info{identity="${leader.identity}"} 1`);
    expect(standbyMetrics).toMatch(/^tend_leader_lease_renewed_timestamp_seconds \d/m);

    const retry = await fetch(`${standby.daemon.url}/api/v1/retry`, { method: 'POST', headers: { authorization: `Bearer ${standby.token}` } });
    expect(retry.status).toBe(503);
    expect(await retry.json()).toMatchObject({ code: 'E_NOT_LEADER', hint: `Ask the leader, ${leader.identity} at ${leader.daemon.url}.` });
  }, 120_000);

  it('a push delivered to the standby wakes the leader through etcd; with etcd down the standby answers 503', async () => {
    const prefix = freshPrefix();
    const [leader, standby] = await elected(await instance(prefix, 'tend-a'), await instance(prefix, 'tend-b'));
    await vi.waitFor(() => expect(leader.events.some((event) => event['msg'] === 'pass started')).toBe(true), WAIT);
    const body = JSON.stringify({ ref: 'refs/heads/main', after: 'a'.repeat(40) });
    const push = (): Promise<Response> =>
      fetch(`${standby.daemon.url}/hooks/git`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(body).digest('hex')}` },
        body,
      });
    const answer = await push();
    expect(answer.status).toBe(202);
    expect(await answer.json()).toMatchObject({ accepted: true, relayedTo: leader.identity });
    await vi.waitFor(() => expect(leader.events.filter((event) => event['msg'] === 'pass started' && event['reason'] === 'webhook')).toHaveLength(1), WAIT);
    expect(standby.events.filter((event) => event['msg'] === 'pass started')).toEqual([]);

    await cluster.stopMembers(0, 1, 2);
    try {
      await vi.waitFor(async () => expect(await role(standby)).toBe('unavailable'), WAIT);
      const refused = await push();
      expect(refused.status).toBe(503);
      expect(await refused.json()).toMatchObject({ code: 'E_NOT_LEADER' });
    } finally {
      await cluster.startMembers(0, 1, 2);
    }
  }, 120_000);

  it('the standby takes over when the leader stops, from the shared journal in etcd', async () => {
    const prefix = freshPrefix();
    const [leader, standby] = await elected(await instance(prefix, 'tend-a'), await instance(prefix, 'tend-b'));
    await vi.waitFor(async () => expect((await status(leader)).services.map((one) => one.service)).toContain('api'), WAIT);
    // A pause lives only in the journal: the new leader shows it only if it resumed from the leader's.
    const until = Date.now() + 3_600_000;
    const paused = await fetch(`${leader.daemon.url}/api/v1/pause?service=api&owner=ada&reason=disk%20swap&until=${until}`, { method: 'POST', headers: { authorization: `Bearer ${leader.token}` } });
    expect(paused.status).toBe(200);
    daemons.splice(daemons.indexOf(leader.daemon), 1);
    await leader.daemon.stop();
    await vi.waitFor(async () => expect(await role(standby)).toBe('leader'), WAIT);
    expect((await status(standby)).services.find((one) => one.service === 'api')).toMatchObject({ state: 'Paused' });
  }, 120_000);

  it('with etcd down no instance acts and /readyz and /status say why; one leads again when etcd returns', async () => {
    const prefix = freshPrefix();
    const [a, b] = await elected(await instance(prefix, 'tend-a'), await instance(prefix, 'tend-b'));
    await cluster.stopMembers(0, 1, 2);
    try {
      await vi.waitFor(async () => {
        for (const one of [a, b]) {
          const ready = await get(one, '/readyz');
          expect(ready.status).toBe(503);
          expect(JSON.parse(ready.body)).toMatchObject({ ready: false, role: 'unavailable' });
          expect((await status(one)).leadership).toMatchObject({ role: 'unavailable', notActing: { reason: 'etcd-unavailable' }, etcdError: { code: 'E_ETCD_UNAVAILABLE' } });
          expect((await get(one, '/metrics')).body).toMatch(/^tend_leader 0$/m);
        }
      }, WAIT);
    } finally {
      await cluster.startMembers(0, 1, 2);
    }
    await elected(a, b);
  }, 120_000);
});
