import { spawn, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, symlink, mkdir, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchReleaseOnHost, stageDownloadedRelease, type RemoteFiles, type RunOptions, type UrlRelease } from '../../../src/hosts/index.js';
import { releaseDir, releasePath } from '../../../src/render/host-layout.js';
import { findProgram } from '../../support/debian-packages.js';

/**
 * The stage script against the real download tools a host may have (curl, GNU wget, busybox wget) and a
 * real HTTP store, run on this machine as root with a PATH that holds only the tool under test and what
 * the script needs besides: which tool is found decides how it fetches, so each gets the same cases.
 */

const BINARY = Buffer.from('#!/bin/sh\necho api\n');
const TOKEN = 'canary-artifact-token-7f3a';
const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

let server: Server;
let base: string;
let refusedPort: number;
let scratch: string;
let tarball: Buffer;
const seen: IncomingHttpHeaders[] = [];
const services: string[] = [];

/** A runner that is the host: argv runs here, with stdin, and exit codes are judged as the pool judges them. */
function localHost(path: string, argvSeen: string[][]): RemoteFiles {
  return {
    run: (_host, argv, options: RunOptions = {}) =>
      new Promise((resolve, reject) => {
        argvSeen.push([...argv]);
        const child = spawn(argv[0] ?? 'false', argv.slice(1), { env: { PATH: path } });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
        child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
        child.on('error', reject);
        child.on('close', (code) => {
          const result = { code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
          if (code === 0 || (options.okExitCodes ?? []).includes(code ?? -1)) resolve(result);
          else reject(new Error(`exit ${code}: ${result.stderr}`));
        });
        child.stdin.end(options.stdin === undefined ? undefined : Buffer.from(options.stdin));
      }),
    withSftp: () => Promise.reject(new Error('no SFTP here')),
  };
}

const SCRIPT_NEEDS = ['sh', 'dirname', 'mkdir', 'mktemp', 'chmod', 'cat', 'sha256sum', 'mv', 'rm', 'touch', 'tail', 'tar', 'gzip', 'readlink', 'sync', 'grep'];

async function pathWith(tool: string): Promise<string> {
  const dir = join(scratch, `bin-${tool}`);
  await mkdir(dir, { recursive: true });
  for (const program of [...SCRIPT_NEEDS, tool]) {
    const found = await findProgram(program);
    if (found === undefined) throw new Error(`${program} is not installed`);
    await symlink(found, join(dir, program)).catch(() => undefined);
  }
  return dir;
}

function release(overrides: Partial<UrlRelease> = {}): UrlRelease {
  const service = `tend-test-${randomBytes(4).toString('hex')}`;
  services.push(service);
  return { service, sha256: sha(BINARY), downloadName: 'api', archive: undefined, program: 'api', ...overrides };
}

const exists = (path: string): Promise<boolean> => stat(path).then(() => true, () => false);

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'tend-artifact-stage-'));
  await mkdir(join(scratch, 'tree', 'bin'), { recursive: true });
  await writeFile(join(scratch, 'tree', 'bin', 'api'), BINARY, { mode: 0o755 });
  execFileSync('tar', ['-czf', join(scratch, 'api.tar.gz'), '-C', join(scratch, 'tree'), 'bin']);
  tarball = await readFile(join(scratch, 'api.tar.gz'));
  server = createServer((request, response) => {
    seen.push(request.headers);
    const path = request.url ?? '/';
    if (path === '/api') return void response.end(BINARY);
    if (path === '/api.tar.gz') return void response.end(tarball);
    if (path === '/down') return void response.writeHead(503).end('down');
    if (path === '/private/api') {
      if (request.headers.authorization !== `Bearer ${TOKEN}`) return void response.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
      return void response.end(BINARY);
    }
    response.writeHead(404).end('no such file');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  refusedPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
});

afterAll(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  for (const service of services) await rm(releaseDir(service), { recursive: true, force: true });
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
});

const HOST = { name: 'this-machine', user: 'root' };

describe.each([
  { tool: 'curl', private: true },
  { tool: 'wget', private: true },
  { tool: 'busybox', private: false },
])('the stage script with $tool', { timeout: 60_000 }, ({ tool, private: canSendCredentials }) => {
  it('stages a binary under its sha256, executable, verified on the host', async () => {
    const pool = localHost(await pathWith(tool), []);
    const one = release();
    await expect(fetchReleaseOnHost(pool, HOST, one, `${base}/api`, undefined)).resolves.toEqual({ ok: true, outcome: 'staged' });
    const program = join(releasePath(one.service, one.sha256), 'api');
    expect(sha(await readFile(program))).toBe(one.sha256);
    expect((await stat(program)).mode & 0o777).toBe(0o755);
    await expect(fetchReleaseOnHost(pool, HOST, one, `${base}/api`, undefined)).resolves.toEqual({ ok: true, outcome: 'present' });
  });

  it('unpacks a tarball and finds run.file in it', async () => {
    const pool = localHost(await pathWith(tool), []);
    const one = release({ sha256: sha(tarball), downloadName: 'api.tar.gz', archive: 'tar.gz', program: 'bin/api' });
    await expect(fetchReleaseOnHost(pool, HOST, one, `${base}/api.tar.gz`, undefined)).resolves.toEqual({ ok: true, outcome: 'staged' });
    expect(await readFile(join(releasePath(one.service, one.sha256), 'bin', 'api'))).toEqual(BINARY);
  });

  it('refuses other bytes than the sha256 pins, and creates no release', async () => {
    const pool = localHost(await pathWith(tool), []);
    const one = release({ sha256: 'a'.repeat(64) });
    await expect(fetchReleaseOnHost(pool, HOST, one, `${base}/api`, undefined)).resolves.toEqual({ ok: false, failure: { kind: 'hash-mismatch', got: sha(BINARY) } });
    expect(await exists(releasePath(one.service, one.sha256))).toBe(false);
  });

  it('tells a missing file (404) from a store in trouble (503) and a store that is down', async () => {
    const pool = localHost(await pathWith(tool), []);
    await expect(fetchReleaseOnHost(pool, HOST, release(), `${base}/nothing`, undefined)).resolves.toEqual({ ok: false, failure: { kind: 'http', status: 404 } });
    await expect(fetchReleaseOnHost(pool, HOST, release(), `${base}/down`, undefined)).resolves.toEqual({ ok: false, failure: { kind: 'http', status: 503 } });
    await expect(fetchReleaseOnHost(pool, HOST, release(), `http://127.0.0.1:${refusedPort}/api`, undefined)).resolves.toMatchObject({ ok: false, failure: { kind: 'unreachable' } });
  });

  it(canSendCredentials ? 'sends a private store\'s credentials from stdin, never in an argv' : 'refuses to send credentials on a command line', async () => {
    const argvSeen: string[][] = [];
    const pool = localHost(await pathWith(tool), argvSeen);
    const one = release();
    const result = await fetchReleaseOnHost(pool, HOST, one, `${base}/private/api`, `Authorization: Bearer ${TOKEN}`);
    if (canSendCredentials) expect(result).toEqual({ ok: true, outcome: 'staged' });
    else expect(result).toMatchObject({ ok: false, failure: { kind: 'missing-tool' } });
    expect(JSON.stringify(argvSeen)).not.toContain(TOKEN);
  });
});

describe('the stage script with bytes from tend (fetch: tend)', () => {
  it('verifies the bytes on the host before they count as staged', async () => {
    const pool = localHost(await pathWith('curl'), []);
    const one = release();
    await expect(stageDownloadedRelease(pool, HOST, one, BINARY)).resolves.toEqual({ ok: true, outcome: 'staged' });
    await expect(stageDownloadedRelease(pool, HOST, release({ sha256: 'b'.repeat(64) }), BINARY)).resolves.toMatchObject({ ok: false, failure: { kind: 'hash-mismatch' } });
  });
});
