import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { directoryReader } from '../../../src/spec/index.js';
import { localSource } from '../../../src/source/index.js';
import type { DeploySource } from '../../../src/source/index.js';
import { commitFiles, initRepo, nativeGit, scratchDir } from './scratch-git.js';

/**
 * A small real history made by native git, with explicit dates:
 *
 *   A --- B --- D --- M      main
 *          \         /
 *           C ------         side (C is newer than D)
 */
let scratch: { path: string; remove: () => Promise<void> };
let repo: string;
let source: DeploySource;
const sha: Record<'A' | 'B' | 'C' | 'D' | 'M', string> = { A: '', B: '', C: '', D: '', M: '' };

beforeAll(async () => {
  scratch = await scratchDir('history');
  repo = join(scratch.path, 'repo');
  await initRepo(repo);
  sha.A = await commitFiles(repo, { 'a.txt': 'a\n', 'dir/b.txt': 'b\n' }, 'A: first', 1_000);
  sha.B = await commitFiles(repo, { 'a.txt': 'a2\n' }, 'B: change a', 2_000);
  await nativeGit(repo, ['checkout', '--quiet', '-b', 'side']);
  sha.C = await commitFiles(repo, { 'side.txt': 'side\n' }, 'C: add side', 3_000);
  await nativeGit(repo, ['checkout', '--quiet', 'main']);
  sha.D = await commitFiles(repo, { 'dir/b.txt': null, 'dir/c.txt': 'c\n' }, 'D: b becomes c', 2_500);
  await nativeGit(repo, ['merge', '--quiet', '--no-ff', '-m', 'M: merge side', 'side'], { GIT_AUTHOR_DATE: '@4000 +0000', GIT_COMMITTER_DATE: '@4000 +0000' });
  sha.M = await nativeGit(repo, ['rev-parse', 'HEAD']);
  source = localSource({ path: repo, branch: 'main' });
  expect(await source.fetch()).toBe(sha.M);
});

afterAll(async () => {
  await scratch.remove();
});

const names = (list: readonly { sha: string }[]) => list.map((commit) => Object.entries(sha).find(([, value]) => value === commit.sha)?.[0]);

describe('history of a source', () => {
  it.each([
    ['A', 'M', true],
    ['B', 'D', true],
    ['C', 'M', true],
    ['M', 'M', true],
    ['C', 'D', false],
    ['D', 'C', false],
    ['M', 'A', false],
  ] as const)('isAncestor(%s, %s) is %s', async (ancestor, descendant, expected) => {
    expect(await source.isAncestor(sha[ancestor], sha[descendant])).toBe(expected);
  });

  it.each([
    [undefined, 'M', ['M', 'C', 'D', 'B', 'A']],
    ['A', 'M', ['M', 'C', 'D', 'B']],
    ['B', 'M', ['M', 'C', 'D']],
    ['C', 'M', ['M', 'D']],
    ['D', 'M', ['M', 'C']],
    ['M', 'M', []],
    ['M', 'B', []],
    ['C', 'D', ['D']],
  ] as const)('commitsBetween(%s, %s) is %j, newest first', async (from, to, expected) => {
    expect(names(await source.commitsBetween(from === undefined ? undefined : sha[from], sha[to]))).toEqual(expected);
  });

  it.each([
    ['A', ['a.txt', 'dir/b.txt']],
    ['B', ['a.txt']],
    ['D', ['dir/b.txt', 'dir/c.txt']],
    ['M', ['side.txt']],
  ] as const)('changedPaths(%s) against the first parent is %j', async (commit, expected) => {
    expect(await source.changedPaths(sha[commit])).toEqual(expected);
  });

  it('describes a commit as git does', async () => {
    const info = await source.commit(sha.M);
    expect(info).toEqual({
      sha: sha.M,
      parents: [sha.D, sha.C],
      subject: 'M: merge side',
      message: 'M: merge side\n',
      authorName: 'Ada Author',
      authorEmail: 'ada@tend.invalid',
      committedAt: 4_000_000,
      trailers: new Map(),
    });
  });

  it('reports an unknown commit as E_GIT_COMMIT_MISSING', async () => {
    await expect(source.commit('0123456789abcdef0123456789abcdef01234567')).rejects.toMatchObject({ code: 'E_GIT_COMMIT_MISSING', errorClass: 'conflict' });
  });
});

describe('changedPaths on less common changes', () => {
  it('sees a change of mode only, and a file that became a directory', async () => {
    const dir = join(scratch.path, 'modes');
    await initRepo(dir);
    await commitFiles(dir, { 'run.sh': 'echo hi\n', x: 'file\n' }, 'first');
    await chmod(join(dir, 'run.sh'), 0o755);
    await nativeGit(dir, ['add', 'run.sh']);
    const modeOnly = await commitFiles(dir, {}, 'make run.sh executable');
    const becameDir = await commitFiles(dir, { x: null, 'x/y': 'now a directory\n' }, 'x becomes a directory');
    const modes = localSource({ path: dir, branch: 'main' });
    expect(await modes.changedPaths(modeOnly)).toEqual(['run.sh']);
    expect(await modes.changedPaths(becameDir)).toEqual(['x', 'x/y']);
  });
});

describe('readerAt', () => {
  it('lists files, executables, directories, symlinks and submodules as a checkout would', async () => {
    const dir = join(scratch.path, 'kinds');
    await initRepo(dir);
    await mkdir(join(dir, 'services/web'), { recursive: true });
    await writeFile(join(dir, 'services/web/spec.yml'), 'service: {}\n');
    await writeFile(join(dir, 'services/web/web'), '#!/bin/sh\n');
    await chmod(join(dir, 'services/web/web'), 0o755);
    await symlink('web', join(dir, 'services/web/current'));
    await nativeGit(dir, ['add', '.']);
    await nativeGit(dir, ['update-index', '--add', '--cacheinfo', `160000,${sha.A},services/vendored`]);
    const commit = await commitFiles(dir, {}, 'kinds');
    const kinds = localSource({ path: dir, branch: 'main' });
    const reader = kinds.readerAt(commit);
    const sorted = async (path: string) => [...(await reader.list(path))].map(({ name, type }) => ({ name, type })).sort((a, b) => a.name.localeCompare(b.name));

    expect(await sorted('services')).toEqual([
      { name: 'vendored', type: 'other' },
      { name: 'web', type: 'dir' },
    ]);
    // The working copy has the same entries (the submodule's folder is not checked out here).
    expect(await sorted('services/web')).toEqual([...(await directoryReader(dir).list('services/web'))].sort((a, b) => a.name.localeCompare(b.name)));
    expect(await sorted('services/web')).toEqual([
      { name: 'current', type: 'symlink' },
      { name: 'spec.yml', type: 'file' },
      { name: 'web', type: 'file' },
    ]);
    expect(await reader.size('services/web/spec.yml')).toBe('service: {}\n'.length);
    expect(new TextDecoder().decode(await reader.readFile('services/web/spec.yml'))).toBe('service: {}\n');
    expect(await reader.readLink('services/web/current')).toBe('web');
    await expect(reader.readFile('services/web/current')).rejects.toThrow(/not a regular file/);
    await expect(reader.readFile('services/web')).rejects.toThrow(/not a regular file/);
    await expect(reader.list('services/web/spec.yml')).rejects.toThrow(/not a directory/);
    await expect(reader.list('services/nothing')).rejects.toThrow(/no such path/);
    await expect(reader.readFile('services/../inventory.yml')).rejects.toThrow(/not a plain repo path/);
  });

  it("names each entry by git's object id: what a commit leaves alone keeps its id, what it changes gets a new one", async () => {
    const dir = join(scratch.path, 'ids');
    await initRepo(dir);
    const first = await commitFiles(dir, { 'inventory.yml': 'hosts: {}\n', 'services/api/spec.yml': 'a\n', 'services/web/spec.yml': 'w\n' }, 'first');
    const second = await commitFiles(dir, { 'services/web/spec.yml': 'w2\n' }, 'second');
    const ids = localSource({ path: dir, branch: 'main' });
    const idsAt = async (commit: string, path: string) => new Map((await ids.readerAt(commit).list(path)).map((entry) => [entry.name, entry.id]));
    const [root1, root2] = [await idsAt(first, ''), await idsAt(second, '')];
    const [services1, services2] = [await idsAt(first, 'services'), await idsAt(second, 'services')];
    expect(root2.get('inventory.yml')).toBe(root1.get('inventory.yml'));
    expect(services2.get('api')).toBe(services1.get('api'));
    expect(services2.get('web')).not.toBe(services1.get('web'));
    expect(root1.get('inventory.yml')).toBe(await nativeGit(dir, ['rev-parse', `${first}:inventory.yml`]));
    expect(services2.get('web')).toBe(await nativeGit(dir, ['rev-parse', `${second}:services/web`]));
  });

  it('reads the tree of the commit asked for, not of the branch head', async () => {
    const old = source.readerAt(sha.A);
    expect(new TextDecoder().decode(await old.readFile('a.txt'))).toBe('a\n');
    expect((await old.list('dir')).map((entry) => entry.name)).toEqual(['b.txt']);
  });
});
