import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Etcd3 } from 'etcd3';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startEtcdLeadership, type Leadership } from '../../../src/leadership/index.js';
import { createLogger } from '../../../src/observability/index.js';
import { startEtcdCluster, type EtcdCluster } from '../../support/etcd-cluster.js';

/**
 * Leadership against a real 3-member etcd cluster on loopback (Debian's etcd-server, installed by the
 * suite). TTL 2 s: renewals every ~0.7 s, a leader stops acting ~1.3 s after its last confirmed renewal.
 */
const TTL_MS = 2_000;
const WAIT = { timeout: 30_000, interval: 50 };

let cluster: EtcdCluster;
let prefixes = 0;
const started: Leadership[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  cluster = await startEtcdCluster(3);
}, 600_000);

afterAll(async () => {
  await cluster.stop();
});

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await Promise.all(started.splice(0).map((one) => one.close()));
});

function quiet(): ReturnType<typeof createLogger> {
  return createLogger({ destination: new Writable({ write: (_chunk, _encoding, done) => done() }) });
}

/** Each test campaigns under its own prefix: leftovers of one never decide another. */
function freshPrefix(): string {
  prefixes += 1;
  return `/tend-test/${process.pid}/${prefixes}`;
}

function parts(main: string, buckets: Record<string, string> = {}): Map<string, string> {
  return new Map([['main', main], ...Object.entries(buckets)]);
}

async function instance(prefix: string, identity: string): Promise<Leadership> {
  const leadership = await startEtcdLeadership({ endpoints: cluster.endpoints, prefix, credentials: undefined, ttlMs: TTL_MS, self: { identity, url: `http://${identity}.invalid:9464` }, logger: quiet() });
  started.push(leadership);
  return leadership;
}

/** An instance in its own process, which the test can kill -9; resolves once it leads. */
async function leaderProcess(prefix: string, identity: string): Promise<ChildProcess> {
  const script = fileURLToPath(new URL('./support/campaigner.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, cluster.endpoints.join(','), prefix, identity, String(TTL_MS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) if ((JSON.parse(line) as { kind: string }).kind === 'leading') return child;
  throw new Error(`${identity} exited before it led`);
}

describe('leadership through a real 3-member etcd', () => {
  it('elects exactly one of two instances; the other stands by and names it', async () => {
    const prefix = freshPrefix();
    const a = await instance(prefix, 'tend-a');
    const b = await instance(prefix, 'tend-b');
    await vi.waitFor(() => expect([a.state.kind, b.state.kind].sort()).toEqual(['leading', 'standby']), WAIT);
    const [leader, standby] = a.state.kind === 'leading' ? [a, b] : [b, a];
    expect(leader.mayAct().act).toBe(true);
    expect(standby.mayAct()).toMatchObject({ act: false, reason: 'standby' });
    expect(standby.state).toMatchObject({ kind: 'standby', leader: { identity: leader.self.identity } });
  }, 120_000);

  it('a standby takes over after the leader is killed -9 and its lease expires', async () => {
    const prefix = freshPrefix();
    const child = await leaderProcess(prefix, 'tend-killed');
    const standby = await instance(prefix, 'tend-standby');
    await vi.waitFor(() => expect(standby.state).toMatchObject({ kind: 'standby', leader: { identity: 'tend-killed' } }), WAIT);
    child.kill('SIGKILL');
    await once(child, 'exit');
    await vi.waitFor(() => expect(standby.state.kind).toBe('leading'), WAIT);
    expect(standby.mayAct().act).toBe(true);
  }, 120_000);

  it('refuses the journal write of a deposed leader that has not noticed yet', async () => {
    const prefix = freshPrefix();
    const old = await instance(prefix, 'tend-old');
    await vi.waitFor(() => expect(old.state.kind).toBe('leading'), WAIT);
    await old.fencedWrite('journal', parts('by the leader'));
    const next = await instance(prefix, 'tend-next');
    await vi.waitFor(() => expect(next.state.kind).toBe('standby'), WAIT);
    // etcd ends the old leader's lease behind its back (as when it expires during a pause).
    const state = old.state;
    if (state.kind !== 'leading') throw new Error('the old leader lost its lease early');
    const admin = new Etcd3({ hosts: [...cluster.endpoints] });
    try {
      await admin.leaseClient.leaseRevoke({ ID: state.leaseId });
      await vi.waitFor(() => expect(next.state.kind).toBe('leading'), WAIT);
      await next.fencedWrite('journal', parts('by the new leader'));
      // The old leader still believes it leads (its clock says the lease lives); etcd has the last word.
      await expect(old.fencedWrite('journal', parts('by the deposed leader'))).rejects.toMatchObject({ code: 'E_NOT_LEADER' });
      expect(await admin.get(`${prefix}/journal/main`).string()).toBe('by the new leader');
      expect(old.mayAct().act).toBe(false);
    } finally {
      admin.close();
    }
  }, 120_000);

  it('a write sends only the parts that changed, in one transaction, and removes the parts no longer there', async () => {
    const prefix = freshPrefix();
    const leader = await instance(prefix, 'tend-writer');
    await vi.waitFor(() => expect(leader.state.kind).toBe('leading'), WAIT);
    const admin = new Etcd3({ hosts: [...cluster.endpoints] });
    const revisions = async (): Promise<Record<string, string>> => {
      const found = await admin.getAll().prefix(`${prefix}/journal/`).exec();
      return Object.fromEntries(found.kvs.map((kv) => [kv.key.toString().slice(prefix.length + '/journal/'.length), kv.mod_revision]));
    };
    try {
      await leader.fencedWrite('journal', parts('step 1', { 'hosts/01': 'api', 'hosts/02': 'web' }));
      const first = await revisions();
      await leader.fencedWrite('journal', parts('step 2', { 'hosts/01': 'api', 'hosts/02': 'web moved' }));
      const second = await revisions();
      expect(second['hosts/01']).toBe(first['hosts/01']);
      expect(second['main']).toBe(second['hosts/02']);
      expect(BigInt(second['main']!)).toBeGreaterThan(BigInt(first['main']!));
      await leader.fencedWrite('journal', parts('step 3', { 'hosts/01': 'api' }));
      expect(Object.keys(await revisions()).sort()).toEqual(['hosts/01', 'main']);
      expect(Object.fromEntries(await leader.readDocument('journal'))).toEqual({ main: 'step 3', 'hosts/01': 'api' });
      // A new leader's first write reads what etcd holds and sends only what differs from it too.
      const third = await revisions();
      await leader.close();
      const next = await instance(prefix, 'tend-next-writer');
      await vi.waitFor(() => expect(next.state.kind).toBe('leading'), WAIT);
      await next.fencedWrite('journal', parts('step 4', { 'hosts/01': 'api' }));
      expect((await revisions())['hosts/01']).toBe(third['hosts/01']);
    } finally {
      admin.close();
    }
  }, 120_000);

  it('with etcd down nobody acts and the state says why; it resumes when etcd returns', async () => {
    const prefix = freshPrefix();
    const a = await instance(prefix, 'tend-a');
    const b = await instance(prefix, 'tend-b');
    await vi.waitFor(() => expect([a.state.kind, b.state.kind].sort()).toEqual(['leading', 'standby']), WAIT);
    await cluster.stopMembers(0, 1, 2);
    try {
      await vi.waitFor(() => {
        expect(a.mayAct().act).toBe(false);
        expect(b.mayAct().act).toBe(false);
        expect(a.state).toMatchObject({ kind: 'unavailable', code: 'E_ETCD_UNAVAILABLE' });
        expect(b.state).toMatchObject({ kind: 'unavailable', code: 'E_ETCD_UNAVAILABLE' });
      }, WAIT);
      await expect(a.fencedWrite('journal', parts('{}'))).rejects.toMatchObject({ code: 'E_NOT_LEADER' });
    } finally {
      await cluster.startMembers(0, 1, 2);
    }
    await vi.waitFor(() => expect([a.state.kind, b.state.kind].sort()).toEqual(['leading', 'standby']), { ...WAIT, timeout: 60_000 });
  }, 120_000);
});
