import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TendError } from '../../../src/errors/index.js';
import { observeHost } from '../../../src/hosts/observe.js';
import { probeExec, probeHttp, probeTcp } from '../../../src/hosts/probes.js';
import type { RemoteRunner } from '../../../src/hosts/remote-command.js';
import { freePort } from '../../support/free-port.js';

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    if (request.url === '/slow') return; // never answers
    response.writeHead(request.url === '/healthz' ? 200 : 503, { 'content-type': 'text/plain' });
    response.end(request.url === '/healthz' ? 'ok: all good\n' : 'down\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('probeHttp', () => {
  it('is healthy on the expected status and body substring, with latency and an excerpt', async () => {
    const result = await probeHttp({ url: `${base}/healthz`, expectStatus: 200, expectBody: 'all good', timeoutMs: 5000 });
    expect(result).toMatchObject({ ok: true, status: 200, bodyExcerpt: 'ok: all good' });
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('fails on another status, or a body without the substring', async () => {
    expect(await probeHttp({ url: `${base}/down`, expectStatus: 200, timeoutMs: 5000 })).toMatchObject({ ok: false, status: 503 });
    expect(await probeHttp({ url: `${base}/healthz`, expectBody: 'nope', timeoutMs: 5000 })).toMatchObject({ ok: false, status: 200 });
  });

  it('fails with a timeout message when nothing answers in time', async () => {
    const result = await probeHttp({ url: `${base}/slow`, timeoutMs: 200 });
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/no response within 200 ms/);
  });

  it('fails with the socket error when the port is closed', async () => {
    const result = await probeHttp({ url: `http://127.0.0.1:${await freePort()}/`, timeoutMs: 5000 });
    expect(result).toMatchObject({ ok: false });
    expect(result.error).toMatch(/ECONNREFUSED/);
  });
});

describe('probeTcp', () => {
  it('is healthy when the port accepts and fails when it refuses', async () => {
    const port = (server.address() as AddressInfo).port;
    expect(await probeTcp({ host: '127.0.0.1', port, timeoutMs: 5000 })).toMatchObject({ ok: true });
    expect(await probeTcp({ host: '127.0.0.1', port: await freePort(), timeoutMs: 5000 })).toMatchObject({ ok: false, error: 'ECONNREFUSED' });
  });
});

const failing = (error: TendError): RemoteRunner => ({ run: async () => Promise.reject(error) });

describe('probeExec', () => {
  it('is healthy on exit 0 and runs the argv as root through the one exec path', async () => {
    const calls: unknown[] = [];
    const runner: RemoteRunner = {
      run: async (_host, argv, options) => {
        calls.push({ argv, sudo: options?.sudo });
        return { code: 0, stdout: 'fine\n', stderr: '' };
      },
    };
    expect(await probeExec(runner, { name: 'h', user: 'deploy' }, { argv: ['check'], timeoutMs: 1000 })).toMatchObject({ ok: true, bodyExcerpt: 'fine' });
    expect(calls).toEqual([{ argv: ['check'], sudo: true }]);
  });

  it('fails on a non-zero exit, but rethrows an unreachable host rather than blaming the release', async () => {
    const nonZero = new TendError('E_REMOTE_COMMAND', 'transient', 'h: `check` exited 1');
    expect(await probeExec(failing(nonZero), { name: 'h', user: 'root' }, { argv: ['check'], timeoutMs: 1000 })).toMatchObject({ ok: false });
    const unreachable = new TendError('E_HOST_UNREACHABLE', 'transient', 'h is unreachable');
    await expect(probeExec(failing(unreachable), { name: 'h', user: 'root' }, { argv: ['check'], timeoutMs: 1000 })).rejects.toBe(unreachable);
  });
});

describe('observeHost', () => {
  it('returns an unobservable host with the code, class and message of what stopped it', async () => {
    const error = new TendError('E_HOSTKEY', 'conflict', 'h presented another key');
    expect(await observeHost(failing(error), { name: 'h', user: 'root' })).toEqual({
      host: 'h',
      reachable: false,
      code: 'E_HOSTKEY',
      errorClass: 'conflict',
      message: 'h presented another key',
    });
  });

  it('returns output it cannot parse as E_OBSERVE_PARSE, not as a crash', async () => {
    const runner: RemoteRunner = { run: async () => ({ code: 0, stdout: 'hello\n', stderr: '' }) };
    expect(await observeHost(runner, { name: 'h', user: 'root' })).toMatchObject({ reachable: false, code: 'E_OBSERVE_PARSE' });
  });

  it('sends the constant script on stdin under sudo, with the hint as positional words only', async () => {
    let seen: { argv: readonly string[]; stdin: unknown; sudo: unknown } | undefined;
    const runner: RemoteRunner = {
      run: async (_host, argv, options) => {
        seen = { argv, stdin: options?.stdin, sudo: options?.sudo };
        return { code: 0, stdout: 'tend-observe version=1\nsystemctl-show begin\nsystemctl-show end rc=0\nend\n', stderr: '' };
      },
    };
    await observeHost(runner, { name: 'h', user: 'deploy' }, ['web', 'bad name; rm -rf /']);
    expect(seen?.argv).toEqual(['sh', '-s', '--', 'web']);
    expect(seen?.sudo).toBe(true);
    expect(String(seen?.stdin)).toMatch(/^set -u\n/);
  });
});
