import * as fs from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import git, { Errors } from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GitServer } from './harness/git-server.js';

const USER = 'tend';
const PASSWORD = 'e2e-secret-password';
const author = { name: 'e2e tester', email: 'tester@tend.invalid' };

describe('test git server', () => {
  let server: GitServer;
  let scratch: string;
  let initialCommit: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'tend-e2e-git-test-'));
    const source = join(scratch, 'source');
    await mkdir(join(source, 'services/web'), { recursive: true });
    await writeFile(join(source, 'inventory.yml'), 'hosts: {}\n');
    await writeFile(join(source, 'services/web/spec.yml'), 'service:\n  name: web\n');
    server = await GitServer.start({ user: USER, password: PASSWORD });
    initialCommit = await server.createRepo('deploy', source);
  });

  afterAll(async () => {
    await server.close();
    await rm(scratch, { recursive: true, force: true });
  });

  beforeEach(async () => {
    server.setFault('none');
    await server.allowPushes('deploy');
  });

  let clones = 0;
  async function cloneDeploy(credentials = { username: USER, password: PASSWORD }): Promise<string> {
    clones += 1;
    const dir = join(scratch, `clone-${clones}`);
    await git.clone({ fs, http, dir, url: server.repoUrl('deploy'), ref: 'main', singleBranch: true, onAuth: () => credentials });
    return dir;
  }

  async function commitFile(dir: string, path: string, content: string): Promise<string> {
    await writeFile(join(dir, path), content);
    await git.add({ fs, dir, filepath: path });
    return git.commit({ fs, dir, message: `Change ${path}`, author });
  }

  function push(dir: string, onMessage?: (message: string) => void) {
    return git.push({ fs, http, dir, remote: 'origin', ref: 'main', onAuth: () => ({ username: USER, password: PASSWORD }), ...(onMessage === undefined ? {} : { onMessage }) });
  }

  it('serves a bare repo made from a directory, with one initial commit holding its files', async () => {
    const dir = await cloneDeploy();
    expect(await git.resolveRef({ fs, dir, ref: 'HEAD' })).toBe(initialCommit);
    expect(await readFile(join(dir, 'services/web/spec.yml'), 'utf8')).toBe('service:\n  name: web\n');
    expect((await git.log({ fs, dir })).length).toBe(1);
  });

  it('accepts a push with isomorphic-git, and logs requests without the password', async () => {
    const dir = await cloneDeploy();
    const commit = await commitFile(dir, 'tend.yml', 'prune: true\n');
    const result = await push(dir);
    expect(result.ok).toBe(true);
    expect(await server.head('deploy')).toBe(commit);
    const receivePack = server.requests.find((entry) => entry.method === 'POST' && entry.path === '/deploy.git/git-receive-pack');
    expect(receivePack?.status).toBe(200);
    expect(JSON.stringify(server.requests)).not.toContain(PASSWORD);
  });

  it('answers 401 to wrong credentials', async () => {
    const failure = cloneDeploy({ username: USER, password: 'wrong' });
    await expect(failure).rejects.toBeInstanceOf(Errors.HttpError);
    await expect(failure).rejects.toMatchObject({ data: { statusCode: 401 } });
  });

  it.each([
    ['reject-auth', 401],
    ['error-500', 500],
    ['unavailable-503', 503],
  ] as const)('fault %s answers %i to every request, and clearing it restores service', async (fault, status) => {
    server.setFault(fault);
    await expect(cloneDeploy()).rejects.toMatchObject({ code: 'HttpError', data: { statusCode: status } });
    expect(server.requests.at(-1)?.status).toBe(status);
    server.setFault('none');
    await cloneDeploy();
  });

  it('fault hang accepts a request and never answers; the client must time out', async () => {
    server.setFault('hang');
    const request = fetch(`${server.repoUrl('deploy')}/info/refs?service=git-upload-pack`, { signal: AbortSignal.timeout(500) });
    await expect(request).rejects.toThrow(/timeout|aborted/i);
    // The log entry is written when the connection closes, which follows the client's abort.
    await expect.poll(() => server.requests.at(-1)).toMatchObject({ path: '/deploy.git/info/refs?service=git-upload-pack', status: null });
  });

  it('shuts down cleanly while a hung request is still open', async () => {
    const other = await GitServer.start({ user: USER, password: PASSWORD });
    await other.createRepo('deploy');
    other.setFault('hang');
    // Settled into a value at once: the rejection arrives during close(), before anything awaits it.
    const hung = fetch(`${other.repoUrl('deploy')}/info/refs?service=git-upload-pack`).then(
      () => 'answered',
      (error: unknown) => error,
    );
    await expect.poll(() => other.openRequests()).toBe(1);
    await other.close();
    expect(await hung).toBeInstanceOf(Error);
    expect(other.requests).toMatchObject([{ status: null }]);
  });

  it('refuses pushes through a pre-receive hook, with its message, until pushes are allowed again', async () => {
    const dir = await cloneDeploy();
    const before = await server.head('deploy');
    await commitFile(dir, 'refused.txt', 'no\n');
    await server.rejectPushes('deploy', 'deploys are frozen');
    const messages: string[] = [];
    await expect(push(dir, (message) => messages.push(message))).rejects.toMatchObject({ code: 'GitPushError' });
    expect(messages.join('')).toContain('deploys are frozen');
    expect(await server.head('deploy')).toBe(before);
    await server.allowPushes('deploy');
    expect((await push(dir)).ok).toBe(true);
  });

  it('race at the advertisement: another commit lands first, the push is refused as non-fast-forward', async () => {
    const dir = await cloneDeploy();
    await commitFile(dir, 'mine.txt', 'mine\n');
    const landed = server.racePush('deploy', 'advertisement', { files: { 'theirs.txt': 'theirs\n' } });
    const failure = push(dir);
    await expect(failure).rejects.toBeInstanceOf(Errors.PushRejectedError);
    await expect(failure).rejects.toMatchObject({ data: { reason: 'not-fast-forward' } });
    expect(await server.head('deploy')).toBe(await landed);
  });

  it('race at the update: the commit lands after the pack is sent, the server refuses the ref update', async () => {
    const dir = await cloneDeploy();
    await commitFile(dir, 'mine-too.txt', 'mine\n');
    const landed = server.racePush('deploy', 'update');
    await expect(push(dir)).rejects.toMatchObject({ code: 'GitPushError' });
    expect(await server.head('deploy')).toBe(await landed);
  });
});
