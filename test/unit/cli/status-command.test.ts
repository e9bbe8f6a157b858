import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DaemonStatus } from '../../../src/status/index.js';
import { buildTend, runTend } from '../../support/tend-cli.js';
import { baseStatus, FAILED_ROLLOUT_HISTORY, failedRolloutStatus, synced } from '../api/status-fixtures.js';

/** `tend status` through the real binary against a stand-in daemon that answers /status with a fixed body. */

let served: DaemonStatus = baseStatus([synced('api'), synced('queue')]);
/** The stand-in's /history, oldest first as the daemon keeps it; and every path asked for. */
const history = [...FAILED_ROLLOUT_HISTORY].reverse();
const requested: string[] = [];
let server: Server;
let url: string;

beforeAll(async () => {
  await buildTend();
  server = createServer((request, response) => {
    requested.push(request.url ?? '');
    response.writeHead(200, { 'content-type': 'application/json' });
    const wanted = new URL(request.url ?? '/', 'http://stand-in').searchParams.get('service');
    response.end(JSON.stringify(request.url?.startsWith('/history') === true ? { rollouts: history.filter((one) => wanted === null || one.service === wanted) } : served));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 300_000);

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('tend status', () => {
  it('with ha, names the leader and says why a standby does not act', async () => {
    const now = Date.now();
    served = baseStatus([synced('api')], {
      leadership: {
        role: 'standby',
        self: 'tend-b',
        leader: { identity: 'tend-a', url: 'http://10.0.0.1:9464' },
        leaderSince: now - 300_000,
        leaseRenewedAt: now - 2_000,
        leaseTtlMs: 15_000,
        notActing: { reason: 'standby', detail: 'standby: tend-a leads' },
        etcdError: undefined,
        publishedAt: now - 1_000,
      },
    });
    const run = await runTend(['status', '--server', url]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^leader   tend-a at http:\/\/10\.0\.0\.1:9464 since 5m ago \(this is tend-b, standby; lease renewed \d+s ago\)$/m);
    expect(run.stdout).toContain('         not acting: standby: tend-a leads\n');
    expect(run.stdout).toMatch(/^ {9}shown as the leader published it \d+s ago$/m);
  });

  it('exits 0 when every service is Synced', async () => {
    served = baseStatus([synced('api'), synced('queue')]);
    const run = await runTend(['status', '--server', url]);
    expect(run.code, run.stderr).toBe(0);
  });

  it('exits 1 for a service the deploy repo does not have, naming the ones it has', async () => {
    served = baseStatus([synced('api'), synced('queue')]);
    const run = await runTend(['status', 'nosuch', '--server', url]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('no service nosuch in the deploy repo (it has: api, queue)');
    const json = await runTend(['status', 'nosuch', '--json', '--server', url]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: 'E_UNKNOWN_SERVICE' } });
  });

  it('exits 4, not 0, while a restarted daemon shows its journal unconfirmed by a pass', async () => {
    served = baseStatus([synced('api')], { settled: false });
    const run = await runTend(['status', '--server', url]);
    expect(run.code).toBe(4);
    expect(run.stdout).toContain('starting: shown from the journal');
  });

  it('exits 1 for a remembered stall even before the first pass confirms it', async () => {
    served = baseStatus([{ ...synced('api'), state: 'Stalled', code: 'E_HOSTKEY' }], { settled: false });
    expect((await runTend(['status', '--server', url])).code).toBe(1);
  });
});

describe('tend status SERVICE', () => {
  it('prints a line per host of the service: commit, version, state, unit, last probe and since when', async () => {
    served = failedRolloutStatus();
    const run = await runTend(['status', 'api', '--server', url]);
    expect(run.code).toBe(1);
    const lines = run.stdout.split('\n');
    expect(lines.find((line) => line.trimStart().startsWith('web-1'))).toMatch(/^\s+web-1\s+failed\s+c0ffee012345\s+1\.5\.0-1\s+failed\/failed\s+failed 503 \S+ ago\s+\S+ ago$/);
    expect(lines.find((line) => line.trimStart().startsWith('web-2'))).toMatch(/^\s+web-2\s+pending\s+a1b2c3d4e5f6\s+1\.4\.2-1\s+active\/running/);
    // Only the service asked for.
    expect(run.stdout).not.toContain('edge-1');
    const json = JSON.parse((await runTend(['status', 'api', '--json', '--server', url])).stdout) as DaemonStatus;
    expect(json.hosts.map((host) => host.host)).toEqual(['web-1', 'web-2']);
  });
});

describe('tend history', () => {
  it('prints each rollout oldest first with commit, subject, author, result, failed hosts and the revert, and asks the daemon for one service', async () => {
    const all = await runTend(['history', '--server', url]);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout.split('\n')[0]).toMatch(/^2024-11-20 23:02:00Z\s+3m\s+queue\s+succeeded\s+a1b2c3d4e5f6  queue: 3 workers  \(Ada Lovelace <ada@example.com>\)$/);
    const run = await runTend(['history', 'api', '--server', url]);
    expect(run.code, run.stderr).toBe(0);
    expect(requested.at(-1)).toBe('/history?service=api');
    expect(run.stdout.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^2024-11-21 03:06:00Z\s+2m\s+api\s+failed-change E_UNIT_FAILED\s+c0ffee012345  api: raise the connection pool to 400  \(Bob Builder <bob@example.com>\)$/),
      expect.stringMatching(/^\s+failed hosts: web-1; reverted by deadbeef0123$/),
    ]);
    const json = JSON.parse((await runTend(['history', '--json', '--server', url])).stdout) as { ok: boolean; rollouts: unknown[] };
    expect(json).toMatchObject({ ok: true, rollouts: [...FAILED_ROLLOUT_HISTORY].reverse().map((one) => ({ rolloutId: one.rolloutId })) });
  });

  it('exits 3 when no daemon answers', async () => {
    const run = await runTend(['history', '--server', 'http://127.0.0.1:1']);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('E_DAEMON_UNREACHABLE');
  });
});
