import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { directoryReader, loadRepo } from '../../../src/spec/index.js';
import { BASE_INVENTORY } from './fixture-repo.js';

let root: string;
let outside: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tend-reader-'));
  outside = await mkdtemp(join(tmpdir(), 'tend-outside-'));
  await writeFile(join(outside, 'secret'), 'top secret\n');
  await mkdir(join(root, 'services', 'api'), { recursive: true });
  await writeFile(join(root, 'inventory.yml'), BASE_INVENTORY);
  await symlink(outside, join(root, 'escape'));
  await symlink(join(outside, 'secret'), join(root, 'secret-link'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

describe('directoryReader never follows a symlink', () => {
  it('lists entries with their types, symlinks as symlinks', async () => {
    const entries = await directoryReader(root).list('');
    expect([...entries].sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'escape', type: 'symlink' },
      { name: 'inventory.yml', type: 'file' },
      { name: 'secret-link', type: 'symlink' },
      { name: 'services', type: 'dir' },
    ]);
  });

  it('refuses to read through a symlinked directory', async () => {
    await expect(directoryReader(root).readFile('escape/secret')).rejects.toThrow(/not a directory/);
    await expect(directoryReader(root).list('escape')).rejects.toThrow();
  });

  it('refuses to read a symlinked file', async () => {
    await expect(directoryReader(root).readFile('secret-link')).rejects.toThrow();
    await expect(directoryReader(root).size('secret-link')).rejects.toThrow(/not a regular file/);
  });

  it('refuses paths with .. or empty segments', async () => {
    await expect(directoryReader(root).readFile('../x')).rejects.toThrow(/not a plain repo path/);
    await expect(directoryReader(root).readFile('services//api')).rejects.toThrow(/not a plain repo path/);
  });

  it('reports a symlink target without following it', async () => {
    expect(await directoryReader(root).readLink('secret-link')).toBe(join(outside, 'secret'));
  });

  it('lists a FIFO as other, and the loader refuses it without hanging', async () => {
    execFileSync('mkfifo', [join(root, 'services', 'api', 'spec.yml')]);
    const entries = await directoryReader(root).list('services/api');
    expect(entries).toEqual([{ name: 'spec.yml', type: 'other' }]);
    const result = await loadRepo(directoryReader(root));
    expect(result).toMatchObject({ ok: false, issues: expect.arrayContaining([expect.objectContaining({ code: 'E_NOT_A_FILE', file: 'services/api/spec.yml' })]) });
  });
});
