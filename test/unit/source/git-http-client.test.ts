import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { gitHttpClient } from '../../../src/source/index.js';

interface Seen {
  readonly path: string;
  readonly authorization: string | undefined;
}

/** A tiny HTTP server whose answers the test writes; it records what reached it. */
async function startServer(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', authorization: req.headers.authorization });
    handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function readAll(body: AsyncIterableIterator<Uint8Array> | undefined): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body ?? []) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

async function* chunks(...parts: string[]): AsyncIterableIterator<Uint8Array> {
  for (const part of parts) yield new TextEncoder().encode(part);
}

const AUTH = { authorization: 'Basic dGVuZDpzM2NyZXQ=' };

describe('gitHttpClient', () => {
  it('follows a redirect within the origin, with the credentials, and reports the final URL', async () => {
    const { url, seen } = await startServer((req, res) => {
      if (req.url === '/old.git/info/refs') res.writeHead(302, { location: '/new.git/info/refs' }).end();
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('refs');
    });
    const response = await gitHttpClient().request({ url: `${url}/old.git/info/refs`, method: 'GET', headers: AUTH });
    expect(response.statusCode).toBe(200);
    expect(response.url).toBe(`${url}/new.git/info/refs`);
    expect(await readAll(response.body)).toBe('refs');
    expect(seen).toEqual([
      { path: '/old.git/info/refs', authorization: AUTH.authorization },
      { path: '/new.git/info/refs', authorization: AUTH.authorization },
    ]);
  });

  it('refuses a redirect to another origin, and the other origin never sees a request', async () => {
    const elsewhere = await startServer((_req, res) => res.writeHead(200).end('stolen'));
    // localhost and 127.0.0.1 on another port: another origin, though the same machine.
    const target = elsewhere.url.replace('127.0.0.1', 'localhost');
    const { url } = await startServer((_req, res) => res.writeHead(301, { location: `${target}/deploy.git/info/refs` }).end());
    const request = gitHttpClient().request({ url: `${url}/deploy.git/info/refs`, method: 'GET', headers: AUTH });
    await expect(request).rejects.toMatchObject({ code: 'E_GIT_REDIRECT', errorClass: 'conflict' });
    await expect(request).rejects.toThrow(/another origin/);
    expect(elsewhere.seen).toEqual([]);
  });

  it('stops after five redirects', async () => {
    const { url, seen } = await startServer((req, res) => res.writeHead(302, { location: `${req.url ?? ''}x` }).end());
    await expect(gitHttpClient().request({ url: `${url}/loop`, method: 'GET' })).rejects.toMatchObject({ code: 'E_GIT_REDIRECT' });
    expect(seen).toHaveLength(6);
  });

  it('does not follow a redirect of a POST: the 3xx goes back to isomorphic-git, which reports it', async () => {
    const { url, seen } = await startServer((_req, res) => res.writeHead(307, { location: '/elsewhere' }).end());
    const response = await gitHttpClient().request({ url: `${url}/deploy.git/git-upload-pack`, method: 'POST', body: chunks('0000') });
    expect(response.statusCode).toBe(307);
    expect(seen).toHaveLength(1);
  });

  it('sends a body given as chunks with its length', async () => {
    let received = '';
    let length: string | undefined;
    const { url } = await startServer((req, res) => {
      length = req.headers['content-length'];
      req.on('data', (chunk: Buffer) => (received += chunk.toString()));
      req.on('end', () => res.writeHead(200).end());
    });
    await gitHttpClient().request({ url, method: 'POST', body: chunks('ab', 'cd') });
    expect(received).toBe('abcd');
    expect(length).toBe('4');
  });

  it('fails with E_GIT_TIMEOUT when the body stalls after the headers', async () => {
    const { url } = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-git-upload-pack-result' });
      res.write('0008NAK\n');
    });
    const response = await gitHttpClient({ timeoutMs: 200 }).request({ url, method: 'GET' });
    await expect(readAll(response.body)).rejects.toMatchObject({ code: 'E_GIT_TIMEOUT', errorClass: 'transient', message: expect.stringMatching(/silent/) });
  });

  it('fails with E_GIT_TIMEOUT at the deadline even while bytes keep trickling in', async () => {
    const { url } = await startServer((_req, res) => {
      res.writeHead(200);
      const drip = setInterval(() => res.write('.'), 20);
      res.on('close', () => clearInterval(drip));
    });
    const response = await gitHttpClient({ timeoutMs: 5_000, deadlineMs: 300 }).request({ url, method: 'GET' });
    await expect(readAll(response.body)).rejects.toMatchObject({ code: 'E_GIT_TIMEOUT', message: expect.stringMatching(/did not finish/) });
  });

  it('fails with E_GIT_UNREACHABLE when nothing listens', async () => {
    const { url, server } = await startServer(() => undefined);
    servers.splice(servers.indexOf(server), 1);
    await new Promise((resolve) => server.close(resolve));
    await expect(gitHttpClient().request({ url, method: 'GET' })).rejects.toMatchObject({
      code: 'E_GIT_UNREACHABLE',
      errorClass: 'transient',
      message: expect.stringMatching(/ECONNREFUSED/),
    });
  });

  it('hands back an error response with its body read, bounded', async () => {
    const { url } = await startServer((_req, res) => res.writeHead(500, { 'content-type': 'text/plain' }).end('x'.repeat(200_000)));
    const response = await gitHttpClient().request({ url, method: 'GET' });
    expect(response.statusCode).toBe(500);
    expect((await readAll(response.body)).length).toBe(64 * 1024);
  });
});
