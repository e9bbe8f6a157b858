import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHealthyRefPusher } from '../../../src/healthy-refs/index.js';
import type { Logger } from '../../../src/observability/index.js';
import type { ServiceStatus } from '../../../src/status/index.js';
import { baseStatus, synced } from '../api/status-fixtures.js';

/** The pusher against a real bare repository: forward moves by compare-and-swap, never backwards. */

const run = promisify(execFile);
const ENV = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@x' };
let dir: string;
let server: string;
let clone: string;
const logged: { msg: string; fields: Record<string, unknown> }[] = [];

const logger = Object.fromEntries(
  ['info', 'warn', 'error', 'debug', 'fatal', 'trace'].map((level) => [level, (fields: Record<string, unknown>, msg: string) => logged.push({ msg, fields })]),
) as unknown as Logger;

async function git(gitdir: string, ...args: string[]): Promise<string> {
  return (await run('git', [`--git-dir=${gitdir}`, ...args], { env: ENV })).stdout.trim();
}

async function commit(parent: string | undefined, message: string): Promise<string> {
  const tree = await git(clone, 'write-tree');
  const sha = await git(clone, 'commit-tree', tree, ...(parent === undefined ? [] : ['-p', parent]), '-m', message);
  await git(clone, 'update-ref', 'refs/heads/main', sha);
  return sha;
}

function pusher() {
  return createHealthyRefPusher({ gitdir: clone, remote: server, config: [], env: ENV, logger, retryDelayMs: 1 });
}

function healthy(...services: ServiceStatus[]) {
  return baseStatus(services);
}

async function serverRef(service: string): Promise<string> {
  return git(server, 'rev-parse', '--verify', '--quiet', `refs/tend/healthy/${service}`).catch(() => '');
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tend-healthy-'));
  server = join(dir, 'server.git');
  clone = join(dir, 'clone.git');
  await run('git', ['init', '--bare', '--quiet', server], { env: ENV });
  await run('git', ['init', '--bare', '--quiet', clone], { env: ENV });
  logged.length = 0;
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the healthy ref pusher', () => {
  it('creates the ref of each healthy service, then moves it forward; the branches are untouched', async () => {
    const one = await commit(undefined, 'one');
    const two = await commit(one, 'two');
    await git(clone, 'push', '--quiet', server, `${one}:refs/heads/main`);
    const refs = pusher();
    refs.observe(healthy(synced('api', one), synced('db', one)));
    await refs.drain();
    expect([await serverRef('api'), await serverRef('db')]).toEqual([one, one]);
    refs.observe(healthy(synced('api', two), synced('db', one)));
    await refs.drain();
    expect([await serverRef('api'), await serverRef('db')]).toEqual([two, one]);
    expect(await git(server, 'rev-parse', 'refs/heads/main')).toBe(one);
  });

  it('never moves a ref backwards: a ref already at a descendant stays', async () => {
    const one = await commit(undefined, 'one');
    const two = await commit(one, 'two');
    await git(clone, 'push', '--quiet', server, `${two}:refs/tend/healthy/api`);
    const refs = pusher();
    refs.observe(healthy(synced('api', one)));
    await refs.drain();
    expect(await serverRef('api')).toBe(two);
    expect(logged.map((one) => one.msg)).toContain('healthy ref already at a commit that is not an ancestor of this one; left as it is');
  });

  it('gives up within its attempts when the server cannot be reached', async () => {
    const one = await commit(undefined, 'one');
    const refs = createHealthyRefPusher({ gitdir: clone, remote: join(dir, 'missing.git'), config: [], env: ENV, logger, maxAttempts: 2, retryDelayMs: 1 });
    refs.observe(healthy(synced('api', one)));
    await refs.drain();
    expect(logged.filter((entry) => entry.fields['code'] === 'E_HEALTHY_REF').map((entry) => entry.msg)).toEqual(['moving the healthy ref failed; retrying', 'healthy ref not moved; gave up']);
  });
});
