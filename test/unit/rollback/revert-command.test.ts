import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitServer } from '../../e2e/harness/git-server.js';
import { buildTend, runTend, type TendRun } from '../../support/tend-cli.js';
import { Scratch, commitFiles, gitOk, initRepo, rawMessage, testGitEnv } from './git-sandbox.js';

/** `tend revert` as on-call runs it: the built binary, a real clone, a real smart-HTTP remote. */

const scratch = new Scratch();
let server: GitServer;

beforeAll(async () => {
  await buildTend();
  server = await GitServer.start({ user: 'oncall', password: 's3cret' });
}, 300_000);

afterAll(async () => {
  await server.close();
  await scratch.cleanup();
});

/** The binary under a clean git config; the clone's own config gives the identity. */
function tend(args: readonly string[]): Promise<TendRun> {
  return runTend(args, { GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' });
}

async function setIdentity(dir: string): Promise<void> {
  await gitOk(dir, ['config', 'user.name', 'On Call']);
  await gitOk(dir, ['config', 'user.email', 'oncall@ops.example']);
}

const spec = (version: number): string => `service:\n  name: api\nrun:\n  version: ${version}\n  command: /srv/api\nlimits:\n  mem: 1G\n`;

/** A clone whose history has a bad commit, a later unrelated one, and a later one on the same line. */
async function deployClone(): Promise<{ dir: string; bad: string; collides: string; head: string }> {
  const dir = await scratch.dir('tend-revert-cli-');
  await initRepo(dir);
  await setIdentity(dir);
  await commitFiles(dir, { 'inventory.yml': 'hosts: []\n', 'services/api/spec.yml': spec(1) }, 'First deploy');
  const bad = await commitFiles(dir, { 'services/api/spec.yml': spec(2), 'services/api/notes.md': 'v2\n' }, 'Bump api to 2');
  const collides = await commitFiles(dir, { 'services/api/spec.yml': spec(3) }, 'Bump api to 3');
  const head = await commitFiles(dir, { 'README.md': 'deploy repo\n' }, 'Document the repo');
  return { dir, bad, collides, head };
}

/** A second clone of `dir` where native git does the same revert. */
async function nativeRevertIn(dir: string, args: readonly string[]): Promise<string> {
  const twin = join(await scratch.dir('tend-revert-twin-'), 'twin');
  await gitOk(dir, ['clone', '--quiet', dir, twin]);
  await gitOk(twin, ['revert', '--no-edit', ...args]);
  return twin;
}

async function state(dir: string): Promise<string> {
  return [await gitOk(dir, ['rev-parse', 'HEAD']), await gitOk(dir, ['status', '--porcelain', '--untracked-files=all'])].join('\n');
}

describe('tend revert', () => {
  it('makes the tree and message git revert makes, moves the branch to it and prints the sha, subject and files', async () => {
    const { dir, head } = await deployClone();
    const bad = await commitFiles(dir, { 'inventory.yml': 'hosts: [web-1]\n' }, 'Add web-1');
    const later = await commitFiles(dir, { 'README.md': 'deploy repo, now with web-1\n' }, 'Mention web-1');
    expect(later).not.toBe(head);
    const twin = await nativeRevertIn(dir, [bad]);

    const run = await tend(['revert', bad, '--repo', dir]);
    expect(run.code, run.stderr).toBe(0);
    const created = await gitOk(dir, ['rev-parse', 'HEAD']);
    expect(await gitOk(dir, ['rev-parse', 'HEAD^'])).toBe(later);
    expect(await gitOk(dir, ['rev-parse', 'HEAD^{tree}'])).toBe(await gitOk(twin, ['rev-parse', 'HEAD^{tree}']));
    expect(await rawMessage(dir, 'HEAD')).toBe(await rawMessage(twin, 'HEAD'));
    expect(await gitOk(dir, ['log', '-1', '--format=%an <%ae>'])).toBe('On Call <oncall@ops.example>');
    expect(run.stdout).toContain(created);
    expect(run.stdout).toContain('Revert "Add web-1"');
    expect(run.stdout).toMatch(/inventory\.yml \| 2 \+-/);
    expect(await gitOk(dir, ['status', '--porcelain'])).toBe('');
  });

  it('reverts a merge against its first parent, as git revert -m 1 does, and reports it as JSON', async () => {
    const { dir } = await deployClone();
    await gitOk(dir, ['switch', '--quiet', '-c', 'feature']);
    await commitFiles(dir, { 'services/web/spec.yml': 'service:\n  name: web\n' }, 'Add web');
    await gitOk(dir, ['switch', '--quiet', 'main']);
    await gitOk(dir, ['merge', '--quiet', '--no-ff', '-m', "Merge branch 'feature'", 'feature']);
    const merge = await gitOk(dir, ['rev-parse', 'HEAD']);
    const twin = await nativeRevertIn(dir, ['-m', '1', merge]);

    const run = await tend(['revert', 'HEAD', '--repo', dir, '--json', '--reason', 'web is not ready']);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { ok: boolean; commit: { sha: string; tree: string; subject: string }; reverted: { sha: string }; branch: string; files: unknown[]; pushed: unknown };
    expect(result).toMatchObject({ ok: true, reverted: { sha: merge }, branch: 'main', pushed: null, commit: { subject: `Revert "Merge branch 'feature'"` } });
    expect(result.files).toEqual([{ path: 'services/web/spec.yml', added: 0, deleted: 2 }]);
    expect(result.commit.sha).toBe(await gitOk(dir, ['rev-parse', 'HEAD']));
    expect(result.commit.tree).toBe(await gitOk(twin, ['rev-parse', 'HEAD^{tree}']));
    const message = await rawMessage(dir, 'HEAD');
    expect(message).toBe(`${await rawMessage(twin, 'HEAD')}\nweb is not ready\n`);
  });

  it('exits 1 with E_REVERT_CONFLICT and leaves the branch, index and working tree as they were', async () => {
    const { dir, bad } = await deployClone();
    await writeFile(join(dir, 'README.md'), 'work in progress\n');
    await writeFile(join(dir, 'scratch.txt'), 'untracked\n');
    const before = await state(dir);
    const run = await tend(['revert', bad, '--repo', dir]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('E_REVERT_CONFLICT');
    expect(run.stderr).toContain('services/api/spec.yml');
    expect(run.stderr).toContain(`git revert ${bad}`);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(await state(dir)).toBe(before);
    expect(await readFile(join(dir, 'README.md'), 'utf8')).toBe('work in progress\n');
  });

  it('exits 1 and keeps uncommitted work when the revert would overwrite it', async () => {
    const { dir, collides } = await deployClone();
    await writeFile(join(dir, 'services/api/spec.yml'), 'local edit\n');
    const before = await state(dir);
    const run = await tend(['revert', collides, '--repo', dir]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('E_REVERT_NOT_APPLIED');
    expect(run.stderr).toContain('services/api/spec.yml');
    expect(await state(dir)).toBe(before);
    expect(await readFile(join(dir, 'services/api/spec.yml'), 'utf8')).toBe('local edit\n');
  });

  it.each([
    ['a commit the repo does not have', ['0123456789abcdef0123456789abcdef01234567'], 'E_REVERT_UNKNOWN_COMMIT'],
    ['a change already undone', ['--', 'HEAD~1'], 'E_REVERT_EMPTY'],
    ['the first commit', ['--', 'HEAD~3'], 'E_REVERT_ROOT'],
  ])('exits 1 for %s and says so', async (_, args, code) => {
    const { dir } = await deployClone();
    if (code === 'E_REVERT_EMPTY') await commitFiles(dir, { 'README.md': null }, 'Remove the readme again');
    const before = await state(dir);
    const run = await tend(['revert', '--repo', dir, ...args]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(code);
    expect(await state(dir)).toBe(before);
  });

  it('exits 2 without a COMMIT, or outside a git clone, and prints help with exit codes', async () => {
    const { dir } = await deployClone();
    expect((await tend(['revert', '--repo', dir])).code).toBe(2);
    const outside = await tend(['revert', 'HEAD', '--repo', await scratch.dir()]);
    expect(outside.code).toBe(2);
    expect(outside.stderr).toContain('not inside a git clone');
    const help = await tend(['revert', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: tend revert/);
    expect(help.stdout).toMatch(/Exit codes:\n\s+0 .*\n\s+1 .*refused.*\n\s+2 .*usage/);
  });

  it('exits 1 with E_GIT_IDENTITY when git has no user.name to commit as', async () => {
    const { dir, head } = await deployClone();
    await gitOk(dir, ['config', '--unset', 'user.name']);
    const run = await tend(['revert', head, '--repo', dir]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('E_GIT_IDENTITY');
    expect(run.stderr).toContain('git config --global user.name');
  });
});

describe('tend revert --push', () => {
  /** A clone of a repo on the test server holding a bad commit and a later one. */
  async function remoteClone(name: string): Promise<{ dir: string; bad: string }> {
    const source = await scratch.dir('tend-revert-remote-');
    await writeFile(join(source, 'inventory.yml'), 'hosts: []\n');
    await server.createRepo(name, source);
    const bad = await server.landCommit(name, { message: 'Bump api to 2', files: { 'services/api/spec.yml': spec(2) } });
    await server.landCommit(name, { message: 'Document the repo', files: { 'README.md': 'deploy repo\n' } });
    const dir = join(await scratch.dir('tend-revert-remote-clone-'), name);
    await gitOk(join(dir, '..'), ['clone', '--quiet', server.repoUrlWithCredentials(name), dir], { env: testGitEnv() });
    await setIdentity(dir);
    return { dir, bad };
  }

  it('lands the revert commit on the server', async () => {
    const { dir, bad } = await remoteClone('push-ok');
    const run = await tend(['revert', bad, '--repo', dir, '--push']);
    expect(run.code, run.stderr).toBe(0);
    const created = await gitOk(dir, ['rev-parse', 'HEAD']);
    expect(await server.head('push-ok')).toBe(created);
    expect(run.stdout).toContain('Pushed main to origin');
    expect(await gitOk(server.repoPath('push-ok'), ['--git-dir=.', 'log', '-1', '--format=%s', 'main'])).toBe('Revert "Bump api to 2"');
  });

  it('exits 1 with E_PUSH_REJECTED and what the server said when the server refuses the push', async () => {
    const { dir, bad } = await remoteClone('push-refused');
    const before = await server.head('push-refused');
    await server.rejectPushes('push-refused', 'main is protected: open a merge request');
    const run = await tend(['revert', bad, '--repo', dir, '--push']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('E_PUSH_REJECTED');
    expect(run.stderr).toContain('main is protected: open a merge request');
    expect(run.stderr).toContain(`${await gitOk(dir, ['rev-parse', 'HEAD'])} is committed on your local main`);
    expect(await server.head('push-refused')).toBe(before);
    expect(await gitOk(dir, ['log', '-1', '--format=%s'])).toBe('Revert "Bump api to 2"');
  });

  it('exits 1 with E_PUSH_REJECTED, never forcing, when someone pushed first', async () => {
    const { dir, bad } = await remoteClone('push-race');
    const theirs = await server.landCommit('push-race', { message: 'Someone else', files: { 'other.txt': 'x\n' } });
    const run = await tend(['revert', bad, '--repo', dir, '--push']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('E_PUSH_REJECTED');
    expect(run.stderr).toContain('git pull --rebase');
    expect(await server.head('push-race')).toBe(theirs);
  });
});
