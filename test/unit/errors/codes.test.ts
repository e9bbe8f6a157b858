import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { ERROR_CODES, hintOf, InternalError, isErrorCode, TendError, type ErrorCode } from '../../../src/errors/index.js';
import { judgeApply } from '../../../src/daemon/apply-verdict.js';
import { revertMessage } from '../../../src/rollback/index.js';
import { emptyJournal } from '../../../src/state/index.js';

const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((entry) => (entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : Promise.resolve(entry.name.endsWith('.ts') ? [join(dir, entry.name)] : []))));
  return nested.flat();
}

/** Every quoted `E_…`/`W_…` in src/, with where it is: code, comment or message alike. */
async function codeLiterals(): Promise<{ code: string; at: string }[]> {
  const found: { code: string; at: string }[] = [];
  for (const file of await sourceFiles(SRC)) {
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines.forEach((line, index) => {
      for (const match of line.matchAll(/['"`]([EW]_[A-Z0-9_]+)['"`]/g)) found.push({ code: match[1] ?? '', at: `src/${relative(SRC, file)}:${index + 1}` });
    });
  }
  return found;
}

describe('the registry of codes', () => {
  it('holds every E_/W_ code written in src/', async () => {
    const literals = await codeLiterals();
    expect(literals.length).toBeGreaterThan(100);
    expect(literals.filter(({ code }) => !isErrorCode(code))).toEqual([]);
  });

  it('gives each code the class the code is raised with', async () => {
    const raised: { code: string; errorClass: string; at: string }[] = [];
    for (const file of await sourceFiles(SRC)) {
      const text = await readFile(file, 'utf8');
      for (const match of text.matchAll(/(?:new TendError|super)\(\s*'([EW]_[A-Z0-9_]+)',\s*'([a-z]+)'/g)) {
        raised.push({ code: match[1] ?? '', errorClass: match[2] ?? '', at: `src/${relative(SRC, file)}` });
      }
    }
    expect(raised.length).toBeGreaterThan(50);
    const differing = raised.filter(({ code, errorClass }) => !isErrorCode(code) || ERROR_CODES[code].errorClass !== errorClass);
    expect(differing).toEqual([]);
  });

  it('calls W_ codes, and only them, warnings', () => {
    const mismatched = Object.entries(ERROR_CODES).filter(([code, entry]) => code.startsWith('W_') !== (entry.errorClass === 'warning'));
    expect(mismatched.map(([code]) => code)).toEqual([]);
  });

  it('has a summary and a hint for every code', () => {
    const bare = Object.entries(ERROR_CODES).filter(([, entry]) => entry.summary.trim() === '' || entry.hint.trim() === '');
    expect(bare.map(([code]) => code)).toEqual([]);
  });

  it.each<[ErrorCode, string]>([
    ['E_RETRIES_EXHAUSTED', 'transient'],
    ['E_SUDO_REFUSED', 'conflict'],
    ['E_HOST_DISK_FULL', 'conflict'],
    ['E_CONFIG_LISTEN', 'invalid'],
  ])('registers %s as %s', (code, errorClass) => {
    expect(ERROR_CODES[code].errorClass).toBe(errorClass);
  });
});

describe('TendError and the registry', () => {
  it('shows the registry hint when the place that raised it gives none', () => {
    const error = new TendError('E_HOST_DISK_FULL', 'conflict', 'web-1: no space left on /var/lib/tend');
    expect(error.hint).toBe(hintOf('E_HOST_DISK_FULL'));
    expect(new InternalError('boom').hint).toBe(hintOf('E_INTERNAL'));
  });

  it('keeps the hint of the place that raised it', () => {
    expect(new TendError('E_HOST_DISK_FULL', 'conflict', 'full', { hint: 'free /var/lib/tend' }).hint).toBe('free /var/lib/tend');
  });

  it("shows a host's health failure with the hint of its code, in status and in the revert commit", () => {
    const step = { service: 'api', host: 'web-1', action: 'update' as const, outcome: 'failed' as const, code: 'E_UNIT_RESTARTED', errorClass: 'change' as const, detail: 'restarted 3 times', hint: undefined, lastProbe: undefined, journal: undefined, startedAt: 0, endedAt: 0 };
    const verdict = judgeApply({
      journal: emptyJournal('memory://deploy#main'),
      head: 'b'.repeat(40),
      result: { services: [{ service: 'api', result: 'failed-change', code: 'E_CANARY_FAILED', detail: 'web-1 failed', outcome: undefined, steps: [step] }], pruned: [], ok: false },
      services: ['api'],
      held: new Map(),
      reverted: undefined,
      stopping: false,
      now: 0,
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 },
      random: () => 0,
    });
    expect(verdict.journal.conditions['api']?.hint).toBe(hintOf('E_UNIT_RESTARTED'));
    if (verdict.next.kind !== 'revert') throw new Error(`expected a revert, got ${verdict.next.kind}`);
    expect(revertMessage({ sha: 'c'.repeat(40), subject: 'api 2', parents: [] }, verdict.next.evidence)).toContain(hintOf('E_UNIT_RESTARTED'));
  });
});
