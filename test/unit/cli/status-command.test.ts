import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DaemonStatus } from '../../../src/status/index.js';
import { buildTend, runTend } from '../../support/tend-cli.js';
import { baseStatus, synced } from '../api/status-fixtures.js';

/** `tend status` through the real binary against a stand-in daemon that answers /status with a fixed body. */

let served: DaemonStatus = baseStatus([synced('api'), synced('queue')]);
let server: Server;
let url: string;

beforeAll(async () => {
  await buildTend();
  server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(served));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 300_000);

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('tend status', () => {
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
