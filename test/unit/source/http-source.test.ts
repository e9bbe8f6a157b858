import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { TendError } from '../../../src/errors/index.js';
import { directoryReader, loadRepo } from '../../../src/spec/index.js';
import { GitCredentials, httpSource } from '../../../src/source/index.js';
import { nativeFetchEnv } from '../../../src/source/native-clone.js';
import type { DeploySource } from '../../../src/source/index.js';
import { GitServer } from '../../e2e/harness/git-server.js';
import { rejectionOf } from '../../support/tend-error.js';
import { nativeGit, scratchDir } from './scratch-git.js';

const USER = 'tend';
const PASSWORD = 'correct-horse-battery-staple-41';
const EXAMPLE = resolve('deploy-repo-example');

/** Every string an error shows or keeps: message, hint, and the same down its cause chain. */
function errorTexts(error: unknown): string[] {
  const texts: string[] = [];
  for (let current = error; current instanceof Error; current = current.cause) {
    texts.push(current.message, String(current), current instanceof TendError ? (current.hint ?? '') : '');
  }
  return texts;
}

async function failureOf(promise: Promise<unknown>): Promise<TendError> {
  const error = await rejectionOf(promise);
  seenErrors.push(error);
  return error;
}

const seenErrors: TendError[] = [];
let server: GitServer;
let scratch: { path: string; remove: () => Promise<void> };
let repos = 0;

beforeAll(async () => {
  server = await GitServer.start({ user: USER, password: PASSWORD });
  scratch = await scratchDir('http');
});

afterAll(async () => {
  await server.close();
  await scratch.remove();
});

beforeEach(() => {
  server.setFault('none');
});

/** A fresh repository on the server holding deploy-repo-example, and a source with its own clone. */
async function freshRepo(options: { password?: string; credentials?: false; timeoutMs?: number } = {}): Promise<{ name: string; first: string; source: DeploySource }> {
  repos += 1;
  const name = `deploy-${repos}`;
  const first = await server.createRepo(name, EXAMPLE);
  const source = httpSource({
    url: server.repoUrl(name),
    branch: 'main',
    dir: join(scratch.path, `clone-${repos}`),
    ...(options.credentials === false ? {} : { credentials: new GitCredentials(USER, options.password ?? PASSWORD) }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  return { name, first, source };
}

/** What another module of tend does: a revert written by native git inside the source's gitdir. */
async function nativeRevert(source: DeploySource, head: string, target: string): Promise<string> {
  const worktree = join(scratch.path, `worktree-${repos}-${target.slice(0, 8)}`);
  await nativeGit(source.gitdir, ['worktree', 'add', '--quiet', '--detach', worktree, head]);
  await nativeGit(worktree, ['revert', '--no-edit', target]);
  const sha = await nativeGit(worktree, ['rev-parse', 'HEAD']);
  await nativeGit(source.gitdir, ['worktree', 'remove', '--force', worktree]);
  return sha;
}

function requestsSince(index: number) {
  return server.requests.slice(index).map(({ method, path, status }) => ({ method, path, status }));
}

describe('httpSource fetch', () => {
  it('clones on the first fetch and picks up a new commit on the next', async () => {
    const { name, first, source } = await freshRepo();
    expect(await source.fetch()).toBe(first);
    const second = await server.landCommit(name, { files: { 'NOTES.md': 'hello\n' }, message: 'Add notes\n\nBecause.\n\nReviewed-by: Bob' });
    expect(await source.fetch()).toBe(second);
    const info = await source.commit(second);
    expect(info).toMatchObject({ sha: second, parents: [first], subject: 'Add notes', authorName: 'tend e2e' });
    expect(info.trailers.get('Reviewed-by')).toEqual(['Bob']);
    expect(await source.changedPaths(second)).toEqual(['NOTES.md']);
  });

  it('fetches only what is new: an idle fetch writes no pack, a new commit brings a pack of its own objects only', async () => {
    const { name, source } = await freshRepo();
    await source.fetch();
    const packs = async () => (await readdir(join(source.gitdir, 'objects', 'pack'))).filter((file) => file.endsWith('.idx')).sort();
    const cloned = await packs();
    await source.fetch();
    expect(await packs()).toEqual(cloned);
    await server.landCommit(name, { files: { 'NOTES.md': 'hello\n' }, message: 'Add notes' });
    await source.fetch();
    const added = (await packs()).filter((file) => !cloned.includes(file));
    expect(added).toHaveLength(1);
    // The commit, the root tree and the blob: the client told the server what it already had.
    const listing = await nativeGit(source.gitdir, ['verify-pack', '-v', join(source.gitdir, 'objects', 'pack', added[0]!)]);
    expect(listing.split('\n').filter((line) => /^[0-9a-f]{40} /.test(line))).toHaveLength(3);
  });

  it('fetches only the branch it serves', async () => {
    const { name, source } = await freshRepo();
    const other = await server.createRepo(`${name}-unused`);
    await nativeGit(server.repoPath(name), ['fetch', '--quiet', server.repoPath(`${name}-unused`), `main:refs/heads/other`]);
    await source.fetch();
    const refs = await nativeGit(source.gitdir, ['for-each-ref', '--format=%(refname)']);
    expect(refs.split('\n')).toEqual(['refs/remotes/origin/main']);
    await expect(nativeGit(source.gitdir, ['cat-file', '-e', other])).rejects.toThrow();
  });

  it('keeps a bare git directory native git can add a worktree to and revert in', async () => {
    const { name, source } = await freshRepo();
    await source.fetch();
    const change = await server.landCommit(name, { files: { 'extra.txt': 'x\n' }, message: 'Add extra' });
    await source.fetch();
    expect(await nativeGit(source.gitdir, ['rev-parse', '--is-bare-repository'])).toBe('true');
    const revert = await nativeRevert(source, change, change);
    expect((await source.commit(revert)).subject).toBe('Revert "Add extra"');
    expect(await source.changedPaths(revert)).toEqual(['extra.txt']);
  });

  it('stays readable and fetchable after native git repacks the directory (git gc --auto after reverts does)', async () => {
    const { name, first, source } = await freshRepo();
    await source.fetch();
    const second = await server.landCommit(name, { files: { 'two.txt': '2\n' }, message: 'Two' });
    await source.fetch();
    await source.commit(first);
    await nativeGit(source.gitdir, ['gc', '--quiet', '--prune=now']);
    expect(await source.changedPaths(second)).toEqual(['two.txt']);
    // A new process over the same directory has nothing cached: everything comes from the repacked store.
    const reopened = httpSource({ url: server.repoUrl(name), branch: 'main', dir: dirname(source.gitdir), credentials: new GitCredentials(USER, PASSWORD) });
    expect((await reopened.commitsBetween(undefined, second)).map((commit) => commit.sha)).toEqual([second, first]);
    expect(new TextDecoder().decode(await reopened.readerAt(second).readFile('two.txt'))).toBe('2\n');
    const third = await server.landCommit(name, { files: { 'three.txt': '3\n' }, message: 'Three' });
    expect(await source.fetch()).toBe(third);
    expect(new TextDecoder().decode(await source.readerAt(third).readFile('three.txt'))).toBe('3\n');
  });

  it('reports a branch the server does not have as E_GIT_BRANCH_MISSING', async () => {
    const { name } = await freshRepo();
    const source = httpSource({ url: server.repoUrl(name), branch: 'production', dir: join(scratch.path, `missing-${name}`), credentials: new GitCredentials(USER, PASSWORD) });
    const error = await failureOf(source.fetch());
    expect(error).toMatchObject({ code: 'E_GIT_BRANCH_MISSING', errorClass: 'conflict' });
    expect(error.message).toContain('production');
  });

  it('reports a repository the server does not have as E_GIT_REPO_MISSING', async () => {
    const source = httpSource({ url: server.repoUrl('no-such-repo'), branch: 'main', dir: join(scratch.path, 'no-such-repo'), credentials: new GitCredentials(USER, PASSWORD) });
    expect(await failureOf(source.fetch())).toMatchObject({ code: 'E_GIT_REPO_MISSING', errorClass: 'conflict' });
  });

  it('gives up at the first refused password on the first clone: E_GIT_AUTH after one request, credentials sent at once', async () => {
    const { source } = await freshRepo({ password: 'wrong-password-99' });
    const before = server.requests.length;
    const error = await failureOf(source.fetch());
    expect(error).toMatchObject({ code: 'E_GIT_AUTH', errorClass: 'conflict', retryable: false });
    expect(error.hint).toMatch(/does not retry/);
    // Native git sends the header with its first request and never prompts: one refusal ends the clone.
    expect(requestsSince(before)).toEqual([{ method: 'GET', path: `/${source.description.split('/').at(-1) ?? ''}/info/refs?service=git-upload-pack`, status: 401 }]);
  });

  it('gives up at the first refused password on a later fetch: E_GIT_AUTH, and one attempt with credentials after the anonymous probe', async () => {
    const { name, source } = await freshRepo();
    await source.fetch();
    const wrong = httpSource({ url: server.repoUrl(name), branch: 'main', dir: dirname(source.gitdir), credentials: new GitCredentials(USER, 'wrong-password-99') });
    const before = server.requests.length;
    const error = await failureOf(wrong.fetch());
    expect(error).toMatchObject({ code: 'E_GIT_AUTH', errorClass: 'conflict', retryable: false });
    // isomorphic-git always asks anonymously first; the second request is the only one with credentials.
    expect(requestsSince(before)).toEqual([
      { method: 'GET', path: `/${name}.git/info/refs?service=git-upload-pack`, status: 401 },
      { method: 'GET', path: `/${name}.git/info/refs?service=git-upload-pack`, status: 401 },
    ]);
  });

  it('reports missing credentials as E_GIT_AUTH with a hint to configure them', async () => {
    const { source } = await freshRepo({ credentials: false });
    const error = await failureOf(source.fetch());
    expect(error).toMatchObject({ code: 'E_GIT_AUTH', errorClass: 'conflict' });
    expect(error.hint).toMatch(/none are configured/);
  });

  it.each([
    ['unavailable-503', 503],
    ['error-500', 500],
  ] as const)('reports fault %s as E_GIT_SERVER, transient', async (fault, status) => {
    const { source } = await freshRepo();
    server.setFault(fault);
    const error = await failureOf(source.fetch());
    expect(error).toMatchObject({ code: 'E_GIT_SERVER', errorClass: 'transient', retryable: true });
    expect(error.message).toContain(String(status));
  });

  it('ends a fetch from a server that never answers with E_GIT_TIMEOUT instead of hanging', async () => {
    const { source } = await freshRepo({ timeoutMs: 300 });
    server.setFault('hang');
    expect(await failureOf(source.fetch())).toMatchObject({ code: 'E_GIT_TIMEOUT', errorClass: 'transient' });
    await expect.poll(() => server.openRequests()).toBe(0);
  });

  it('recovers once the fault is gone', async () => {
    const { first, source } = await freshRepo();
    server.setFault('unavailable-503');
    await failureOf(source.fetch());
    server.setFault('none');
    expect(await source.fetch()).toBe(first);
  });
});

describe('httpSource first clone, made by native git', () => {
  const basic = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');

  it('clones with native git: credentials on the first request, no anonymous probe, the pack streamed to disk', async () => {
    const { name, first, source } = await freshRepo();
    const before = server.requests.length;
    expect(await source.fetch()).toBe(first);
    // isomorphic-git always probes anonymously first (a 401); native git sends the header at once.
    const requests = requestsSince(before);
    expect(requests[0]).toEqual({ method: 'GET', path: `/${name}.git/info/refs?service=git-upload-pack`, status: 200 });
    // Protocol v2: the ref listing and the pack, each a POST of its own.
    expect(requests.slice(1)).toEqual([
      { method: 'POST', path: `/${name}.git/git-upload-pack`, status: 200 },
      { method: 'POST', path: `/${name}.git/git-upload-pack`, status: 200 },
    ]);
    expect(await nativeGit(source.gitdir, ['for-each-ref', '--format=%(refname)'])).toBe('refs/remotes/origin/main');
    expect(await nativeGit(source.gitdir, ['fsck', '--no-dangling'])).toBe('');
  });

  it('keeps the credentials out of every command line while git runs, and out of every file of the clone', async () => {
    const { name, first, source } = await freshRepo({ timeoutMs: 1_000 });
    server.setFault('hang');
    const fetching = failureOf(source.fetch());
    await expect.poll(() => server.openRequests()).toBe(1);
    const commandLines = await processCommandLines();
    expect(commandLines.some((line) => line.includes(source.gitdir))).toBe(true);
    for (const line of commandLines) {
      expect(line).not.toContain(PASSWORD);
      expect(line).not.toContain(basic);
    }
    expect(JSON.stringify(process.env)).not.toContain(basic);
    server.setFault('none');
    expect(await fetching).toMatchObject({ code: 'E_GIT_TIMEOUT' });
    expect(await source.fetch()).toBe(first);
    for (const file of await filesUnder(source.gitdir)) {
      const text = (await readFile(file)).toString('latin1');
      expect(text, file).not.toContain(PASSWORD);
      expect(text, file).not.toContain(basic);
    }
    expect(await readFile(join(source.gitdir, 'config'), 'utf8')).toContain(`url = ${server.repoUrl(name)}`);
  }, 15_000);

  it('reports a server that refuses connections as E_GIT_UNREACHABLE, transient', async () => {
    const port = await closedPort();
    const source = httpSource({ url: `http://127.0.0.1:${port}/deploy.git`, branch: 'main', dir: join(scratch.path, 'refused'), credentials: new GitCredentials(USER, PASSWORD) });
    expect(await failureOf(source.fetch())).toMatchObject({ code: 'E_GIT_UNREACHABLE', errorClass: 'transient' });
  });

  it.each([
    ['a web page where the repository should be', 200, 'E_GIT_HTTP'],
    ['a refusal to read (HTTP 403)', 403, 'E_GIT_AUTH'],
  ] as const)('reports %s on the first clone as %s', async (_, status, code) => {
    const web = createHttpServer((req, res) => res.writeHead(status, { 'content-type': 'text/html' }).end('<html>not git</html>\n'));
    await new Promise<void>((done) => web.listen(0, '127.0.0.1', done));
    try {
      const { port } = web.address() as AddressInfo;
      const source = httpSource({ url: `http://127.0.0.1:${port}/deploy.git`, branch: 'main', dir: join(scratch.path, `web-${status}`), credentials: new GitCredentials(USER, PASSWORD) });
      expect(await failureOf(source.fetch())).toMatchObject({ code, errorClass: 'conflict' });
    } finally {
      await new Promise<void>((done) => web.close(() => done()));
    }
  });

  it('ends a first clone past its deadline with E_GIT_TIMEOUT, and leaves no git process holding the connection', async () => {
    const { name } = await freshRepo();
    const source = httpSource({ url: server.repoUrl(name), branch: 'main', dir: join(scratch.path, `deadline-${name}`), credentials: new GitCredentials(USER, PASSWORD), timeoutMs: 30_000, deadlineMs: 700 });
    server.setFault('hang');
    const error = await failureOf(source.fetch());
    expect(error).toMatchObject({ code: 'E_GIT_TIMEOUT', errorClass: 'transient' });
    expect(error.message).toContain('700 ms');
    await expect.poll(() => server.openRequests()).toBe(0);
  });
});

describe('nativeFetchEnv', () => {
  it('gives git the credentials as a config header only, and drops what could redirect git or prompt', () => {
    const env = nativeFetchEnv(new GitCredentials(USER, PASSWORD), { PATH: '/usr/bin', GIT_DIR: '/elsewhere', GIT_ASKPASS: '/bin/echo', SSH_ASKPASS: '/bin/echo' });
    expect(env).toEqual({
      PATH: '/usr/bin',
      LC_ALL: 'C',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_TERMINAL_PROMPT: '0',
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.extraHeader',
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`,
    });
    expect(nativeFetchEnv(undefined, {})).not.toHaveProperty('GIT_CONFIG_COUNT');
  });
});

/** Command lines of every process on the machine, as any user sees them in `ps`. */
async function processCommandLines(): Promise<string[]> {
  const lines: string[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      lines.push((await readFile(`/proc/${entry}/cmdline`)).toString('utf8').replaceAll('\0', ' '));
    } catch {
      // The process ended while we looked.
    }
  }
  return lines;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((done) => probe.close(() => done()));
  return port;
}

describe('httpSource reading commits', () => {
  it('gives loadRepo the same result from the fetched tree as from the directory', async () => {
    const { first, source } = await freshRepo();
    await source.fetch();
    const fromGit = await loadRepo(source.readerAt(first));
    const fromDirectory = await loadRepo(directoryReader(EXAMPLE));
    expect(fromDirectory.ok).toBe(true);
    expect(fromGit).toEqual(fromDirectory);
  });
});

describe('httpSource push', () => {
  it('lands a revert commit native git wrote as loose objects, and moves the tracking ref', async () => {
    const { name, source } = await freshRepo();
    await source.fetch();
    const bad = await server.landCommit(name, { files: { 'bad.txt': 'bad\n' }, message: 'Bad change' });
    await source.fetch();
    const revert = await nativeRevert(source, bad, bad);
    expect(existsSync(join(source.gitdir, 'objects', revert.slice(0, 2), revert.slice(2)))).toBe(true);
    await source.push(revert, bad);
    expect(await server.head(name)).toBe(revert);
    expect(await nativeGit(source.gitdir, ['rev-parse', 'refs/remotes/origin/main'])).toBe(revert);
    expect(await nativeGit(server.repoPath(name), ['cat-file', '-t', revert])).toBe('commit');
  });

  it.each(['advertisement', 'update'] as const)(
    'reports a commit that landed first (at the %s) as E_PUSH_RACE and leaves the remote and the tracking ref as they were',
    async (at) => {
      const { name, source } = await freshRepo();
      const head = await source.fetch();
      const revert = await nativeRevert(source, head, head);
      const landed = server.racePush(name, at, { files: { 'theirs.txt': 'theirs\n' } });
      const error = await failureOf(source.push(revert, head));
      expect(error).toMatchObject({ code: 'E_PUSH_RACE', errorClass: 'transient' });
      expect(await server.head(name)).toBe(await landed);
      expect(await nativeGit(source.gitdir, ['rev-parse', 'refs/remotes/origin/main'])).toBe(head);
      expect(await source.fetch()).toBe(await landed);
    },
  );

  it('refuses to push over a head other than the expected one, even when the push would fast-forward', async () => {
    const { name, first, source } = await freshRepo();
    await source.fetch();
    const second = await server.landCommit(name, { files: { 'second.txt': '2\n' }, message: 'Second' });
    await source.fetch();
    const revert = await nativeRevert(source, second, second);
    // Someone rewinds the branch: the revert would fast-forward it, but it was computed for `second`.
    await nativeGit(server.repoPath(name), ['update-ref', 'refs/heads/main', first]);
    const error = await failureOf(source.push(revert, second));
    expect(error).toMatchObject({ code: 'E_PUSH_RACE' });
    expect(error.message).toContain(first);
    expect(await server.head(name)).toBe(first);
  });

  it('reports a push the server refuses as E_PUSH_REJECTED with what the server said', async () => {
    const { name, source } = await freshRepo();
    const head = await source.fetch();
    const revert = await nativeRevert(source, head, head);
    await server.rejectPushes(name, 'main is protected: deploys are frozen');
    const error = await failureOf(source.push(revert, head));
    expect(error).toMatchObject({ code: 'E_PUSH_REJECTED', errorClass: 'conflict' });
    expect(error.message).toContain('pre-receive hook declined');
    expect(error.message).toContain('deploys are frozen');
    expect(await server.head(name)).toBe(head);
    expect(await nativeGit(source.gitdir, ['rev-parse', 'refs/remotes/origin/main'])).toBe(head);
    await server.allowPushes(name);
    await source.push(revert, head);
    expect(await server.head(name)).toBe(revert);
  });

  it('reports a wrong password on push as E_GIT_AUTH', async () => {
    const { name } = await freshRepo();
    const dir = join(scratch.path, `wrong-push-${name}`);
    const reader = httpSource({ url: server.repoUrl(name), branch: 'main', dir, credentials: new GitCredentials(USER, PASSWORD) });
    const head = await reader.fetch();
    const revert = await nativeRevert(reader, head, head);
    const writer = httpSource({ url: server.repoUrl(name), branch: 'main', dir, credentials: new GitCredentials(USER, 'wrong-password-99') });
    expect(await failureOf(writer.push(revert, head))).toMatchObject({ code: 'E_GIT_AUTH' });
    expect(await server.head(name)).toBe(head);
  });
});

describe('credentials stay secret', () => {
  it('refuses a URL with credentials, without repeating them', () => {
    let error: unknown;
    try {
      httpSource({ url: server.repoUrlWithCredentials('deploy-1'), branch: 'main', dir: scratch.path });
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'E_GIT_URL_CREDENTIALS', errorClass: 'invalid' });
    expect((error as TendError).hint).toMatch(/credentials file/);
    for (const text of errorTexts(error)) expect(text).not.toContain(PASSWORD);
  });

  it('appear in no error message, hint or cause seen in these tests, nor in a description', async () => {
    const { source } = await freshRepo();
    expect(source.description).not.toContain(PASSWORD);
    expect(source.description).not.toContain(USER);
    expect(seenErrors.length).toBeGreaterThan(10);
    for (const error of seenErrors) {
      for (const text of errorTexts(error)) expect(text).not.toContain(PASSWORD);
    }
    expect(JSON.stringify({ credentials: new GitCredentials(USER, PASSWORD) })).not.toContain(PASSWORD);
  });
});

describe('httpSource fetchRef', () => {
  it('fetches a branch to plan under refs/tend/plan/ and leaves the followed branch where it was', async () => {
    const { name, first, source } = await freshRepo();
    expect(await source.fetch()).toBe(first);
    await nativeGit(server.repoPath(name), ['branch', 'feature', 'main']);
    const feature = await server.landCommit(name, { branch: 'feature', files: { 'feature.txt': 'f\n' }, message: 'Feature' });
    // A commit on main the daemon has not fetched yet: planning must not bring the followed branch to it.
    await server.landCommit(name, { files: { 'later.txt': 'l\n' }, message: 'Later' });
    expect(await source.fetchRef({ kind: 'ref', ref: 'feature' })).toBe(feature);
    expect(await nativeGit(source.gitdir, ['rev-parse', 'refs/remotes/origin/main'])).toBe(first);
    expect(await nativeGit(source.gitdir, ['rev-parse', 'refs/tend/plan/heads/feature'])).toBe(feature);
    expect((await source.commit(feature)).subject).toBe('Feature');
  });

  it('fetches a bare sha reachable from a branch of the server', async () => {
    const { name, source } = await freshRepo();
    await source.fetch();
    await nativeGit(server.repoPath(name), ['branch', 'other', 'main']);
    const other = await server.landCommit(name, { branch: 'other', files: { 'o.txt': 'o\n' }, message: 'Other' });
    expect(await source.fetchRef({ kind: 'sha', sha: other })).toBe(other);
  });

  it('refuses a ref the server does not have with E_PLAN_REF_MISSING, and before the first fetch with E_PLAN_NOT_READY', async () => {
    const { source } = await freshRepo();
    expect((await failureOf(source.fetchRef({ kind: 'ref', ref: 'main' }))).code).toBe('E_PLAN_NOT_READY');
    await source.fetch();
    expect((await failureOf(source.fetchRef({ kind: 'ref', ref: 'no-such-branch' })))).toMatchObject({ code: 'E_PLAN_REF_MISSING', errorClass: 'invalid' });
  });
});
