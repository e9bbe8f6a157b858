import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
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

  /**
   * A pusher whose server sees another writer (a second tend, a person) move the ref once, after tend read
   * it and just before tend's push connects. The server is the same bare repository, reached through
   * git's `ext::` transport so that a script sits between tend and `git receive-pack`; tend's push then
   * meets a ref it did not read.
   */
  async function racedPusher(service: string, to: string) {
    const wrapper = join(dir, 'serve.sh');
    const done = join(dir, 'raced');
    await writeFile(
      wrapper,
      [
        '#!/bin/sh',
        `if [ "$1" = git-receive-pack ] && [ ! -e '${done}' ]; then`,
        `  touch '${done}'`,
        `  git --git-dir='${server}' update-ref refs/tend/healthy/${service} ${to}`,
        'fi',
        `exec "$1" '${server}'`,
        '',
      ].join('\n'),
    );
    await chmod(wrapper, 0o755);
    return createHealthyRefPusher({ gitdir: clone, remote: `ext::${wrapper} %S`, config: ['-c', 'protocol.ext.allow=always'], env: ENV, logger, retryDelayMs: 1 });
  }

  it('loses the race to a writer that moved the ref further meanwhile, reads it again, and never moves it back', async () => {
    const one = await commit(undefined, 'one');
    const two = await commit(one, 'two');
    const three = await commit(two, 'three');
    await git(clone, 'push', '--quiet', server, `${three}:refs/heads/main`, `${one}:refs/tend/healthy/api`);
    const refs = await racedPusher('api', three);
    refs.observe(healthy(synced('api', two)));
    await refs.drain();
    expect(await serverRef('api')).toBe(three);
    expect(logged.map((entry) => entry.msg)).toEqual([
      'healthy ref moved by someone else meanwhile; reading it again',
      'healthy ref already at a commit that is not an ancestor of this one; left as it is',
    ]);
  });

  it('loses the race to a writer that moved the ref to an older commit than its own, reads it again, and moves it forward from there', async () => {
    const one = await commit(undefined, 'one');
    const two = await commit(one, 'two');
    const three = await commit(two, 'three');
    await git(clone, 'push', '--quiet', server, `${three}:refs/heads/main`, `${one}:refs/tend/healthy/api`);
    const refs = await racedPusher('api', two);
    refs.observe(healthy(synced('api', three)));
    await refs.drain();
    expect(await serverRef('api')).toBe(three);
    expect(logged.map((entry) => entry.msg)).toEqual(['healthy ref moved by someone else meanwhile; reading it again', 'healthy ref moved']);
  });

  it('gives up within its attempts when the server cannot be reached', async () => {
    const one = await commit(undefined, 'one');
    const refs = createHealthyRefPusher({ gitdir: clone, remote: join(dir, 'missing.git'), config: [], env: ENV, logger, maxAttempts: 2, retryDelayMs: 1 });
    refs.observe(healthy(synced('api', one)));
    await refs.drain();
    expect(logged.filter((entry) => entry.fields['code'] === 'E_HEALTHY_REF').map((entry) => entry.msg)).toEqual(['moving the healthy ref failed; retrying', 'healthy ref not moved; gave up']);
  });
});
