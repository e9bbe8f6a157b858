import { spawn } from 'node:child_process';
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { TendError } from '../../../src/errors/index.js';
import { emptyJournal, journalPath, readJournal, writeJournal } from '../../../src/state/index.js';
import type { InFlightRollout, Journal } from '../../../src/state/index.js';

const SOURCE = 'https://git.example.com/ops/deploy.git#main';
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(64);

const rollout: InFlightRollout = {
  rolloutId: 'r-17',
  commit: B,
  startedAt: 1_700_000_000_500,
  phase: 'reverting',
  planned: { api: ['host-1', 'host-2', 'host-3'], worker: ['host-1'] },
  verified: { api: ['host-1', 'host-2'], worker: [] },
  revert: { service: 'api', evidence: { service: 'api', failedHosts: ['host-3'], errorCode: 'E_PROBE_FAILED', probe: 'http :8080/health -> 500', rolloutId: 'r-17' } },
  runs: { api: { 'host-3': { invocationId: '0123456789abcdef0123456789abcdef', nRestarts: 0, restartedAt: 1_700_000_000_700 } } },
};

/** Every field set, so a round trip proves each one survives. */
const full: Journal = {
  version: 1,
  source: SOURCE,
  lastApplied: A,
  lastAttempted: B,
  services: { api: { stableCommit: A, since: 1_700_000_000_000 } },
  knownBad: { [B]: { service: 'api', code: 'E_PROBE_FAILED', at: 1_700_000_001_000, revertedBy: C, rolloutId: 'r-17' } },
  inFlight: rollout,
  halted: {
    '*': { code: 'E_PUSH_REJECTED', errorClass: 'conflict', message: 'the remote refused the revert', hint: 'Look at the branch protection.', commit: B, since: 1_700_000_002_000, until: 'operator', issues: [] },
    worker: { code: 'E_SCHEMA', errorClass: 'invalid', message: 'spec.yml is invalid', hint: undefined, commit: undefined, since: 1_700_000_003_000, until: 'new-commit', issues: [{ file: 'services/worker/spec.yml', line: 3, col: 5, code: 'E_SCHEMA', message: 'unknown field' }] },
  },
  acknowledgedRewrite: C,
  paused: { api: { owner: 'ops@example.com', reason: 'database migration', since: 1_700_000_000_000, until: 1_700_000_360_000 } },
  retries: { worker: { commit: B, attempts: 2, allowed: 5, code: 'E_HOST_UNREACHABLE', detail: 'host-1: connection refused', lastAt: 1_700_000_004_000, nextAt: 1_700_000_006_000 } },
  conditions: {
    api: { state: 'Degraded', code: 'E_PROBE_FAILED', errorClass: 'change', message: 'probe failed', hint: undefined, since: 1_700_000_001_000, desiredCommit: B, revertCommit: undefined, nextAttemptAt: undefined, failedHosts: ['host-3'], window: undefined },
  },
  rollouts: [
    { rolloutId: 'r-16', service: 'api', commit: A, subject: 'api 2.0', author: 'Ada <ada@example.com>', startedAt: 1_699_999_000_000, endedAt: 1_699_999_060_000, result: 'succeeded', code: undefined, failedHosts: [], reverts: undefined, revertCommit: undefined },
    { rolloutId: 'r-17', service: 'api', commit: B, subject: 'api 3.0', author: 'Bob <bob@example.com>', startedAt: 1_700_000_000_500, endedAt: 1_700_000_001_000, result: 'failed-change', code: 'E_PROBE_FAILED', failedHosts: ['host-3'], reverts: undefined, revertCommit: 'd'.repeat(40) },
  ],
  hosts: {
    api: {
      'host-1': { commit: A, version: '1.4.2-1', state: 'synced', unit: 'active/running', lastProbe: { ok: true, at: 1_699_999_050_000, latencyMs: 4, status: 200, error: undefined }, since: 1_699_999_050_000, observedAt: 1_700_000_000_000 },
      'host-3': { commit: undefined, version: undefined, state: 'unreachable', unit: undefined, lastProbe: undefined, since: 1_700_000_000_000, observedAt: 1_700_000_000_000 },
    },
  },
};

let dir: string;
let path: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tend-journal-'));
  path = journalPath(dir);
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeJournal and readJournal', () => {
  it('round-trips every field', async () => {
    await writeJournal(path, full);
    expect(await readJournal(path, SOURCE)).toStrictEqual({ kind: 'ok', journal: full });
  });

  it('round-trips a rolling rollout without revert and evidence without a probe', async () => {
    const rolling: Journal = { ...full, inFlight: { ...rollout, phase: 'rolling', revert: undefined } };
    await writeJournal(path, rolling);
    expect(await readJournal(path, SOURCE)).toStrictEqual({ kind: 'ok', journal: rolling });
    const noProbe: Journal = { ...full, inFlight: { ...rollout, revert: { service: 'api', evidence: { service: 'api', failedHosts: [], errorCode: 'E_X', probe: undefined, rolloutId: 'r-1' } } } };
    await writeJournal(path, noProbe);
    expect(await readJournal(path, SOURCE)).toStrictEqual({ kind: 'ok', journal: noProbe });
  });

  it('round-trips an empty journal with every optional field undefined', async () => {
    await writeJournal(path, emptyJournal(SOURCE));
    expect(await readJournal(path, SOURCE)).toStrictEqual({ kind: 'ok', journal: emptyJournal(SOURCE) });
  });

  it('reads a journal written before retry budgets, conditions, recorded runs, halt issues, rollout history and host rows existed', async () => {
    const { retries: _retries, conditions: _conditions, rollouts: _rollouts, hosts: _hosts, ...older } = full;
    const { runs: _runs, ...olderRollout } = rollout;
    const olderHalted = Object.fromEntries(Object.entries(full.halted).map(([scope, { issues: _issues, ...halt }]) => [scope, halt]));
    await writeFile(path, JSON.stringify({ ...older, inFlight: olderRollout, halted: olderHalted }));
    const read = await readJournal(path, SOURCE);
    expect(read.kind === 'ok' && read.journal).toMatchObject({ retries: {}, conditions: {}, rollouts: [], hosts: {}, inFlight: { runs: {} }, halted: { worker: { issues: [] } } });
  });

  it('reports a journal that does not exist as missing', async () => {
    expect(await readJournal(path, SOURCE)).toEqual({ kind: 'missing' });
  });

  it('reports a journal written for another source as other-source, naming it', async () => {
    await writeJournal(path, emptyJournal('/srv/other-repo#main'));
    expect(await readJournal(path, SOURCE)).toEqual({ kind: 'other-source', found: '/srv/other-repo#main' });
  });

  it('writes the file readable by its owner only and leaves no temp file behind', async () => {
    await writeJournal(path, full);
    await writeJournal(path, emptyJournal(SOURCE));
    expect(await readdir(dir)).toEqual(['journal.json']);
    const { mode } = await stat(path);
    expect(mode & 0o777).toBe(0o600);
  });

  it('refuses to write a journal that would not read back, and keeps the old one', async () => {
    await writeJournal(path, full);
    const broken = { ...full, lastApplied: 'not-a-sha' };
    await expect(writeJournal(path, broken)).rejects.toMatchObject({ code: 'E_INTERNAL', errorClass: 'internal' });
    expect(await readJournal(path, SOURCE)).toEqual({ kind: 'ok', journal: full });
  });

  it('refuses NaN times, which JSON would silently turn into null', async () => {
    await expect(writeJournal(path, { ...full, services: { api: { stableCommit: A, since: Number.NaN } } })).rejects.toMatchObject({ code: 'E_INTERNAL' });
  });

  it('fails with E_STATE_WRITE as a conflict when the directory is gone', async () => {
    const error = await writeJournal(join(dir, 'no-such-dir', 'journal.json'), full).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TendError);
    expect(error).toMatchObject({ code: 'E_STATE_WRITE', errorClass: 'conflict' });
  });

  it('throws E_STATE_READ, not corrupt, when a directory stands where the journal should be', async () => {
    await mkdir(path);
    await expect(readJournal(path, SOURCE)).rejects.toMatchObject({ code: 'E_STATE_READ', errorClass: 'conflict' });
  });
});

const valid = JSON.parse(JSON.stringify(full)) as Record<string, unknown>;
const text = JSON.stringify(valid);

describe('readJournal on bad content', () => {
  it.each<[string, string | Uint8Array, RegExp]>([
    ['a zero-byte file (a crash on a file system without fsync)', '', /empty/],
    ['truncated JSON', text.slice(0, text.length / 2), /not JSON/],
    ['JSON cut after one byte', '{', /not JSON/],
    ['bytes that are not UTF-8', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), /not UTF-8/],
    ['NUL bytes (a block of zeros after a crash)', new Uint8Array(4096), /not JSON/],
    ['a JSON array', '[]', /not a JSON object/],
    ['JSON null', 'null', /not a JSON object/],
    ['a JSON string', '"journal"', /not a JSON object/],
    ['no version', JSON.stringify({ ...valid, version: undefined }), /version missing/],
    ['a newer version', JSON.stringify({ ...valid, version: 2 }), /version 2 is not one this tend reads/],
    ['the version as a string', JSON.stringify({ ...valid, version: '1' }), /version "1"/],
    ['no source', JSON.stringify({ ...valid, source: undefined }), /source/],
    ['an empty source', JSON.stringify({ ...valid, source: '' }), /\/source/],
    ['services missing', JSON.stringify({ ...valid, services: undefined }), /services/],
    ['lastApplied that is not a sha', JSON.stringify({ ...valid, lastApplied: 'HEAD' }), /\/lastApplied/],
    ['lastApplied as null', JSON.stringify({ ...valid, lastApplied: null }), /\/lastApplied/],
    ['an upper-case sha', JSON.stringify({ ...valid, lastAttempted: B.toUpperCase() }), /\/lastAttempted/],
    ['a stable commit as a number', JSON.stringify({ ...valid, services: { api: { stableCommit: 1, since: 0 } } }), /\/services\/api\/stableCommit/],
    ['a negative time', JSON.stringify({ ...valid, services: { api: { stableCommit: A, since: -1 } } }), /\/services\/api\/since/],
    ['a fractional time', JSON.stringify({ ...valid, services: { api: { stableCommit: A, since: 1.5 } } }), /\/services\/api\/since/],
    ['a known-bad key that is not a sha', JSON.stringify({ ...valid, knownBad: { main: (valid['knownBad'] as Record<string, unknown>)[B] } }), /\/knownBad: key "main"/],
    ['a known-bad entry without its rollout', JSON.stringify({ ...valid, knownBad: { [B]: { service: 'api', code: 'E_X', at: 1 } } }), /rolloutId/],
    ['an unknown phase', JSON.stringify({ ...valid, inFlight: { ...rollout, phase: 'paused' } }), /\/inFlight\/phase/],
    ['verified hosts as a string', JSON.stringify({ ...valid, inFlight: { ...rollout, verified: { api: 'host-1' } } }), /\/inFlight\/verified\/api/],
    ['a verified host listed twice', JSON.stringify({ ...valid, inFlight: { ...rollout, verified: { api: ['h', 'h'] } } }), /\/inFlight\/verified\/api/],
    ['a halt without a message', JSON.stringify({ ...valid, halted: { api: { code: 'E_X', errorClass: 'invalid', since: 1, until: 'operator' } } }), /message/],
    ['a halt with an unknown error class', JSON.stringify({ ...valid, halted: { api: { code: 'E_X', errorClass: 'fatal', message: 'm', since: 1, until: 'operator' } } }), /\/halted\/api\/errorClass/],
    ['a halt that says nothing of what lifts it', JSON.stringify({ ...valid, halted: { api: { code: 'E_X', errorClass: 'invalid', message: 'm', since: 1 } } }), /until/],
    ['an in-flight rollout without planned hosts', JSON.stringify({ ...valid, inFlight: { ...rollout, planned: undefined } }), /planned/],
    ['revert evidence without its error code', JSON.stringify({ ...valid, inFlight: { ...rollout, revert: { service: 'api', evidence: { service: 'api', failedHosts: [], rolloutId: 'r' } } } }), /errorCode/],
    ['an unknown top-level field', JSON.stringify({ ...valid, lastAplied: A }), /unknown field "lastAplied"/],
    ['an unknown nested field', JSON.stringify({ ...valid, services: { api: { stableCommit: A, since: 0, extra: true } } }), /unknown field "extra"/],
  ])('%s is corrupt, with a reason', async (_name, content, reason) => {
    await writeFile(path, content);
    const result = await readJournal(path, SOURCE);
    expect(result.kind).toBe('corrupt');
    expect(result.kind === 'corrupt' ? result.reason : '').toMatch(reason);
  });

  it('reads a valid file written by hand (the check above is not refusing everything)', async () => {
    await writeFile(path, text);
    expect((await readJournal(path, SOURCE)).kind).toBe('ok');
  });

  it('checks the content before the source: a corrupt file of another source is corrupt', async () => {
    await writeFile(path, JSON.stringify({ ...valid, source: 'elsewhere', version: 3 }));
    expect((await readJournal(path, SOURCE)).kind).toBe('corrupt');
  });
});

describe('crash safety', () => {
  it('leaves the old journal readable when a write stopped between its temp file and the rename', async () => {
    await writeJournal(path, full);
    // What a crash after the temp file was written (even half written) and before the rename leaves.
    await writeFile(join(dir, `.journal.json.${process.pid}.0123456789ab.tmp`), JSON.stringify(emptyJournal(SOURCE)).slice(0, 20));
    expect(await readJournal(path, SOURCE)).toEqual({ kind: 'ok', journal: full });
    await writeJournal(path, emptyJournal(SOURCE));
    expect(await readJournal(path, SOURCE)).toEqual({ kind: 'ok', journal: emptyJournal(SOURCE) });
  });

  const writer = fileURLToPath(new URL('./fixtures/journal-writer.ts', import.meta.url));

  /**
   * Starts the writer loop and, once it has reported `writes` completed writes, SIGKILLs it at the
   * `event`-th change it makes in the directory: inotify says a write is under way, so the kill lands
   * inside one (creating, filling, renaming) whatever the write does. Returns the last write it reported.
   */
  async function killWriterMidWrite(writes: number, event: number): Promise<number> {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, path, SOURCE], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let watcher: FSWatcher | undefined;
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.split('\n').length > writes && watcher === undefined) {
        let seen = 0;
        watcher = watch(dir, () => {
          seen += 1;
          if (seen === event) child.kill('SIGKILL');
        });
      }
    });
    const signal = await exited;
    watcher?.close();
    expect(signal, `the writer exited by itself:\n${stderr}`).toBe('SIGKILL');
    return Math.max(...stdout.split('\n').filter((line) => line !== '').map(Number));
  }

  it('never leaves an unreadable journal when the writer is SIGKILLed mid-loop (20 kills)', async () => {
    let killedMidWrite = 0;
    for (let round = 0; round < 20; round++) {
      const lastReported = await killWriterMidWrite(1 + (round % 5), 1 + (round % 4));
      const result = await readJournal(path, SOURCE);
      expect(result.kind, `round ${round}`).toBe('ok');
      // Every write the writer reported is on disk; only writes after the last report can be newer.
      const written = result.kind === 'ok' ? Number.parseInt(result.journal.lastAttempted ?? '0', 16) : 0;
      expect(written).toBeGreaterThanOrEqual(lastReported);
      const leftovers = (await readdir(dir)).filter((name) => name.endsWith('.tmp'));
      if (leftovers.length > 0) killedMidWrite += 1;
      for (const name of leftovers) await rm(join(dir, name));
      await rm(path);
    }
    // Proof that the kills exercised the window between temp file and rename, not only the gaps between writes.
    expect(killedMidWrite).toBeGreaterThan(0);
  }, 120_000);
});

describe('the journal on disk', () => {
  it('is indented JSON a person can read while debugging', async () => {
    await writeJournal(path, full);
    const content = await readFile(path, 'utf8');
    expect(content).toContain('\n  "lastApplied": "');
    expect(content.endsWith('}\n')).toBe(true);
  });
});
