import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { SPEC_ISSUE_CODES, directoryReader, loadRepo } from '../../../src/spec/index.js';
import { writeRepo } from './fixture-repo.js';
import { hostileCases } from './hostile-corpus.js';

const roots: string[] = [];

afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

describe('hostile deploy repos end as positioned issues, never as a throw', () => {
  it('has unique case names, known codes and no case without a file', () => {
    const names = hostileCases.map((hostile) => hostile.name);
    expect(new Set(names).size).toBe(names.length);
    for (const hostile of hostileCases) {
      expect(SPEC_ISSUE_CODES, hostile.name).toContain(hostile.code);
      expect(hostile.file, hostile.name).not.toBe('');
    }
  });

  it.each(hostileCases.map((hostile) => [hostile.name, hostile] as const))('%s', async (_, hostile) => {
    const root = await mkdtemp(join(tmpdir(), 'tend-hostile-'));
    roots.push(root);
    await writeRepo(root, hostile.files);

    const result = await loadRepo(directoryReader(root));

    expect(result.ok).toBe(false);
    if (result.ok) return;
    for (const issue of result.issues) {
      expect(issue.line).toBeGreaterThanOrEqual(1);
      expect(issue.col).toBeGreaterThanOrEqual(1);
      expect(issue.message).not.toMatch(/\n\s+at /);
      expect(issue.message.length).toBeLessThan(600);
    }
    const expected = {
      code: hostile.code,
      file: hostile.file,
      ...(hostile.line === undefined ? {} : { line: hostile.line }),
      ...(hostile.col === undefined ? {} : { col: hostile.col }),
    };
    expect(result.issues).toContainEqual(expect.objectContaining(expected));
  });
});
