import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startApiServer } from '../../../src/api/index.js';
import { createLogger } from '../../../src/observability/index.js';
import { rejectionOf } from '../../support/tend-error.js';
import { stubDaemonApi } from './status-fixtures.js';

/** The API server's `listen` address is configuration: one it cannot bind is the operator's to fix, not tend's bug. */

const api = stubDaemonApi();

const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

function start(host: string, port: number) {
  return startApiServer(api, { listen: { host, port }, webhookSecret: undefined, operatorToken: 'token', branch: 'main', logger: createLogger({ level: 'silent' }) });
}

async function heldPort(): Promise<number> {
  const holder = createServer();
  servers.push(holder);
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const address = holder.address();
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

describe('startApiServer reports an address it cannot listen on as a config error', () => {
  it('a port already in use: E_CONFIG_LISTEN, class invalid, naming listen and the address', async () => {
    const port = await heldPort();
    const error = await rejectionOf(start('127.0.0.1', port));
    expect(error).toMatchObject({ code: 'E_CONFIG_LISTEN', errorClass: 'invalid', message: `listen 127.0.0.1:${port} is already in use` });
    expect(error.hint).toMatch(/another `listen`.*stop what holds the port/);
    expect((error.cause as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
  });

  it('an address this machine does not have (TEST-NET-1): E_CONFIG_LISTEN naming it', async () => {
    const error = await rejectionOf(start('192.0.2.1', 9464));
    expect(error).toMatchObject({ code: 'E_CONFIG_LISTEN', errorClass: 'invalid', message: 'listen 192.0.2.1:9464 is not an address of this machine' });
  });

  it('writes an IPv6 address in brackets', async () => {
    const error = await rejectionOf(start('2001:db8::1', 9464));
    expect(error.message).toBe('listen [2001:db8::1]:9464 is not an address of this machine');
  });
});
