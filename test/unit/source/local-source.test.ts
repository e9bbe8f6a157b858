import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { InternalError } from '../../../src/errors/index.js';
import { LoadCache, directoryReader, loadRepo } from '../../../src/spec/index.js';
import { localSource } from '../../../src/source/index.js';
import { commitFiles, initRepo, nativeGit, scratchDir } from './scratch-git.js';

const EXAMPLE = resolve('deploy-repo-example');

let scratch: { path: string; remove: () => Promise<void> };
let repos = 0;

beforeAll(async () => {
  scratch = await scratchDir('local');
});

afterAll(async () => {
  await scratch.remove();
});

async function freshRepo(): Promise<{ dir: string; first: string }> {
  repos += 1;
  const dir = join(scratch.path, `repo-${repos}`);
  await initRepo(dir);
  const first = await commitFiles(dir, { 'app.txt': 'v1\n' }, 'First');
  return { dir, first };
}

/** What the rollback module does: a revert commit by native git, not yet on the branch. */
async function revertOf(gitdir: string, head: string): Promise<string> {
  const worktree = join(scratch.path, `worktree-${head.slice(0, 8)}-${repos}`);
  await nativeGit(gitdir, ['worktree', 'add', '--quiet', '--detach', worktree, head]);
  await nativeGit(worktree, ['revert', '--no-edit', head]);
  const sha = await nativeGit(worktree, ['rev-parse', 'HEAD']);
  await nativeGit(gitdir, ['worktree', 'remove', '--force', worktree]);
  return sha;
}

describe('localSource', () => {
  it('reads a working repository in place: fetch resolves the branch, and loadRepo sees what directoryReader sees', async () => {
    repos += 1;
    const dir = join(scratch.path, `example-${repos}`);
    await initRepo(dir);
    await nativeGit(dir, ['--work-tree', EXAMPLE, 'add', '--all', '.']);
    await nativeGit(dir, ['--work-tree', EXAMPLE, 'commit', '--quiet', '-m', 'The example repo']);
    const head = await nativeGit(dir, ['rev-parse', 'HEAD']);
    const source = localSource({ path: dir, branch: 'main' });
    expect(source.gitdir).toBe(join(dir, '.git'));
    expect(source.description).toBe(dir);
    expect(await source.fetch()).toBe(head);
    const fromDirectory = await loadRepo(directoryReader(EXAMPLE));
    expect(fromDirectory.ok).toBe(true);
    expect(await loadRepo(source.readerAt(head))).toEqual(fromDirectory);
  });

  it('loads a commit after its parent through a LoadCache as a fresh load does, reading the inventory once', async () => {
    repos += 1;
    const dir = join(scratch.path, `example-${repos}`);
    await initRepo(dir);
    await nativeGit(dir, ['--work-tree', EXAMPLE, 'add', '--all', '.']);
    await nativeGit(dir, ['--work-tree', EXAMPLE, 'commit', '--quiet', '-m', 'The example repo']);
    const parent = await nativeGit(dir, ['rev-parse', 'HEAD']);
    const spec = await readFile(join(EXAMPLE, 'services/api/spec.yml'), 'utf8');
    const child = await commitFiles(dir, { 'services/api/spec.yml': spec.replace(/^(\s*)group: web$/m, '$1group: nowhere') }, 'api: a group that does not exist');
    const source = localSource({ path: dir, branch: 'main' });
    const cache = new LoadCache();
    expect((await loadRepo(source.readerAt(parent), { cache })).ok).toBe(true);
    const reads: string[] = [];
    const reader = source.readerAt(child);
    const cached = await loadRepo({ ...reader, readFile: (path) => (reads.push(path), reader.readFile(path)) }, { cache });
    expect(cached).toEqual(await loadRepo(source.readerAt(child)));
    expect(cached).toEqual({ ok: false, issues: [expect.objectContaining({ code: 'E_UNKNOWN_GROUP', file: 'services/api/spec.yml' })] });
    expect(reads.filter((path) => !path.startsWith('services/api/'))).toEqual([]);
  });

  it('reads a bare repository', async () => {
    const { dir, first } = await freshRepo();
    const bare = join(scratch.path, `bare-${repos}.git`);
    await nativeGit(scratch.path, ['clone', '--quiet', '--bare', dir, bare]);
    const source = localSource({ path: bare, branch: 'main' });
    expect(source.gitdir).toBe(bare);
    expect(await source.fetch()).toBe(first);
  });

  it('reads a branch that lives only in packed-refs', async () => {
    const { dir, first } = await freshRepo();
    await nativeGit(dir, ['pack-refs', '--all']);
    expect(await localSource({ path: dir, branch: 'main' }).fetch()).toBe(first);
  });

  it('reports a missing branch as E_GIT_BRANCH_MISSING and a directory that is no repository as E_GIT_LOCAL_REPO', async () => {
    const { dir } = await freshRepo();
    await expect(localSource({ path: dir, branch: 'production' }).fetch()).rejects.toMatchObject({ code: 'E_GIT_BRANCH_MISSING', errorClass: 'conflict' });
    await expect(localSource({ path: scratch.path, branch: 'main' }).fetch()).rejects.toMatchObject({ code: 'E_GIT_LOCAL_REPO', errorClass: 'invalid' });
  });

  it('refuses a branch name git would refuse before using it in a path or argv', () => {
    for (const branch of ['../main', '-main', 'ma in', 'main.lock', 'a..b', '']) {
      expect(() => localSource({ path: scratch.path, branch })).toThrow(expect.objectContaining({ code: 'E_GIT_BRANCH' }));
    }
  });

  it('calls onChange when a commit lands on the branch, and not for other branches', async () => {
    const { dir } = await freshRepo();
    const source = localSource({ path: dir, branch: 'main' });
    await source.fetch();
    let changes = 0;
    const stop = source.watch(() => {
      changes += 1;
    });
    if (stop === undefined) throw new Error('a local source must watch');
    try {
      await nativeGit(dir, ['branch', 'other']);
      await nativeGit(dir, ['update-ref', 'refs/heads/other', 'HEAD']);
      await commitFiles(dir, { 'app.txt': 'v2\n' }, 'Second');
      await expect.poll(() => changes, { timeout: 10_000 }).toBe(1);
    } finally {
      await stop();
    }
    expect(changes).toBe(1);
  });

  it('push moves the branch by compare-and-swap, leaving the checked-out working tree as it was', async () => {
    const { dir } = await freshRepo();
    const head = await commitFiles(dir, { 'app.txt': 'v2 (bad)\n' }, 'Bad version');
    const source = localSource({ path: dir, branch: 'main' });
    expect(await source.fetch()).toBe(head);
    const revert = await revertOf(source.gitdir, head);
    await source.push(revert, head);
    expect(await source.fetch()).toBe(revert);
    expect(await readFile(join(dir, 'app.txt'), 'utf8')).toBe('v2 (bad)\n');
    expect(new TextDecoder().decode(await source.readerAt(revert).readFile('app.txt'))).toBe('v1\n');
  });

  it('push refuses with E_PUSH_RACE when the branch moved, and leaves it where it moved to', async () => {
    const { dir } = await freshRepo();
    const head = await commitFiles(dir, { 'app.txt': 'v2 (bad)\n' }, 'Bad version');
    const source = localSource({ path: dir, branch: 'main' });
    await source.fetch();
    const revert = await revertOf(source.gitdir, head);
    const theirs = await commitFiles(dir, { 'other.txt': 'theirs\n' }, 'Someone else was faster');
    await expect(source.push(revert, head)).rejects.toMatchObject({ code: 'E_PUSH_RACE', errorClass: 'transient' });
    expect(await source.fetch()).toBe(theirs);
  });

  it('push refuses a commit that does not descend from the expected head as a bug in the caller', async () => {
    const { dir, first } = await freshRepo();
    const second = await commitFiles(dir, { 'app.txt': 'v2\n' }, 'Second');
    const source = localSource({ path: dir, branch: 'main' });
    await expect(source.push(first, second)).rejects.toBeInstanceOf(InternalError);
    expect(await source.fetch()).toBe(second);
  });
});

describe('localSource fetchRef', () => {
  it('reads a branch or a sha to plan in place, and refuses one the repository does not have', async () => {
    const { dir, first } = await freshRepo();
    await nativeGit(dir, ['checkout', '--quiet', '-b', 'feature']);
    const feature = await commitFiles(dir, { 'app.txt': 'v2\n' }, 'Feature');
    const source = localSource({ path: dir, branch: 'main' });
    expect(await source.fetch()).toBe(first);
    expect(await source.fetchRef({ kind: 'ref', ref: 'feature' })).toBe(feature);
    expect(await source.fetchRef({ kind: 'sha', sha: feature })).toBe(feature);
    await expect(source.fetchRef({ kind: 'ref', ref: 'nope' })).rejects.toMatchObject({ code: 'E_PLAN_REF_MISSING' });
    await expect(source.fetchRef({ kind: 'sha', sha: '0'.repeat(40) })).rejects.toMatchObject({ code: 'E_PLAN_REF_MISSING' });
    expect(await source.fetch()).toBe(first);
  });
});
