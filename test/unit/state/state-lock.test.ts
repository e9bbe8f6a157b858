import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { TendError } from '../../../src/errors/index.js';
import { acquireStateLock } from '../../../src/state/index.js';
import type { StateLock } from '../../../src/state/index.js';
import { rejectionOf } from '../../support/tend-error.js';

const HOLDER = fileURLToPath(new URL('./fixtures/hold-lock.ts', import.meta.url));

type Outcome = { ok: true; pid: number } | { ok: false; code: string; errorClass: string; message: string };

interface Holder {
  readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  /** With `onGo`: the holder has loaded and waits for its go. */
  readonly ready: Promise<void>;
  readonly outcome: Promise<Outcome>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Another process (another tend, as far as the lock can tell) trying to take the lock of `dir`; with
 * `onGo` it waits for a line on its stdin first.
 */
function startHolder(dir: string, onGo = false): Holder {
  const child = spawn(process.execPath, ['--import', 'tsx', HOLDER, dir, ...(onGo ? ['--on-go'] : [])], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  let signalReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (signalReady = resolve));
  const outcome = new Promise<Outcome>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      for (const line of stdout.split('\n').slice(0, -1)) {
        if (line === 'ready') signalReady();
        else resolve(JSON.parse(line) as Outcome);
      }
    });
    void exited.then(() => reject(new Error(`the holder exited without an outcome:\n${stderr}`)));
  });
  return { child, ready, outcome, exited };
}

async function killHard(holder: Holder): Promise<void> {
  holder.child.kill('SIGKILL');
  // Waiting for the exit reaps it: an unreaped child would still answer kill(pid, 0).
  await holder.exited;
}

/** The pid of a process that has exited and been reaped. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  if (child.pid === undefined) throw new Error('no pid');
  return child.pid;
}

async function bootId(): Promise<string> {
  return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
}

function lockContent(owner: Record<string, unknown>): string {
  return `${JSON.stringify({ hostname: hostname(), acquiredAt: new Date(0).toISOString(), token: 'f'.repeat(32), ...owner })}\n`;
}

let dir: string;
let lockPath: string;
const holders: Holder[] = [];
const locks: StateLock[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tend-lock-'));
  lockPath = join(dir, 'tend.lock');
});

afterEach(async () => {
  for (const holder of holders.splice(0)) await killHard(holder);
  for (const lock of locks.splice(0)) await lock.release();
  await rm(dir, { recursive: true, force: true });
});

async function acquire(): Promise<StateLock> {
  const lock = await acquireStateLock(dir);
  locks.push(lock);
  return lock;
}

function holder(onGo = false): Holder {
  const started = startHolder(dir, onGo);
  holders.push(started);
  return started;
}

/** A lock taken by mistake is still released after the test. */
function lockError(): Promise<TendError> {
  return rejectionOf(acquireStateLock(dir).then((lock) => locks.push(lock)));
}

describe('acquireStateLock between processes', () => {
  it('refuses this process while another process holds the lock, naming its pid', async () => {
    const other = holder();
    const held = await other.outcome;
    expect(held.ok).toBe(true);
    const error = await lockError();
    expect(error).toMatchObject({ code: 'E_STATE_LOCKED', errorClass: 'conflict', message: `another tend (pid ${other.child.pid}) is running on ${dir}` });
    expect(error.hint).toContain('systemctl stop tend');
  });

  it('refuses a second process while this one holds the lock, naming this pid', async () => {
    await acquire();
    const outcome = await holder().outcome;
    expect(outcome).toEqual({ ok: false, code: 'E_STATE_LOCKED', errorClass: 'conflict', message: `another tend (pid ${process.pid}) is running on ${dir}` });
  });

  it('takes over the lock of a process killed with SIGKILL', async () => {
    const other = holder();
    expect((await other.outcome).ok).toBe(true);
    await killHard(other);
    expect(JSON.parse(await readFile(lockPath, 'utf8'))).toMatchObject({ pid: other.child.pid });

    await acquire();
    expect(JSON.parse(await readFile(lockPath, 'utf8'))).toMatchObject({ pid: process.pid, hostname: hostname() });
    expect(await readdir(dir)).toEqual(['tend.lock']);
  });

  it('lets a second process in once the first released the lock, and release removes the file', async () => {
    const lock = await acquire();
    await lock.release();
    expect(await readdir(dir)).toEqual([]);
    const other = holder();
    expect(await other.outcome).toEqual({ ok: true, pid: other.child.pid });
    other.child.stdin.end();
    expect((await other.exited).code).toBe(0);
    expect(await readdir(dir)).toEqual([]);
  });

  it('of six processes racing for the lock of a dead tend, exactly one wins (5 rounds)', async () => {
    for (let round = 0; round < 5; round++) {
      await writeFile(lockPath, lockContent({ pid: await deadPid(), bootId: await bootId() }));
      const racers = Array.from({ length: 6 }, () => holder(true));
      // Started first and released together, so their takeovers overlap instead of following one another.
      await Promise.all(racers.map((racer) => racer.ready));
      for (const racer of racers) racer.child.stdin.write('go\n');
      const outcomes = await Promise.all(racers.map((racer) => racer.outcome));
      const winners = outcomes.filter((outcome) => outcome.ok);
      expect(winners, `round ${round}`).toHaveLength(1);
      expect(outcomes.filter((outcome) => !outcome.ok).map((outcome) => (outcome.ok ? '' : outcome.code))).toEqual(Array(5).fill('E_STATE_LOCKED'));
      expect(JSON.parse(await readFile(lockPath, 'utf8'))).toMatchObject({ pid: winners[0]?.ok === true ? winners[0].pid : -1 });
      for (const racer of holders.splice(0)) await killHard(racer);
      await rm(lockPath);
    }
  }, 60_000);
});

describe('acquireStateLock judging a lock file it finds', () => {
  it('takes over a lock whose pid no longer exists', async () => {
    await writeFile(lockPath, lockContent({ pid: await deadPid() }));
    await acquire();
    expect(JSON.parse(await readFile(lockPath, 'utf8'))).toMatchObject({ pid: process.pid });
  });

  it('takes over a lock from an earlier boot, even though its pid is alive now', async () => {
    await writeFile(lockPath, lockContent({ pid: process.pid, bootId: '00000000-0000-0000-0000-000000000000' }));
    await acquire();
    expect(JSON.parse(await readFile(lockPath, 'utf8'))).toMatchObject({ bootId: await bootId() });
  });

  it('takes over a lock whose pid now belongs to a process that started later (pid reuse)', async () => {
    const other = holder();
    expect((await other.outcome).ok).toBe(true);
    const held = JSON.parse(await readFile(lockPath, 'utf8')) as Record<string, unknown>;
    await writeFile(lockPath, lockContent({ ...held, processStart: '1' }));
    await acquire();
    expect(JSON.parse(await readFile(lockPath, 'utf8'))).toMatchObject({ pid: process.pid });
  });

  it('refuses a lock held on another host, naming the host, since it cannot check that pid', async () => {
    await writeFile(lockPath, lockContent({ pid: await deadPid(), hostname: 'build-7' }));
    const error = await lockError();
    expect(error).toMatchObject({ code: 'E_STATE_LOCKED', errorClass: 'conflict' });
    expect(error.message).toContain('on build-7');
    expect(error.hint).toContain(lockPath);
  });

  it.each([
    ['an empty file', ''],
    ['text that is not JSON', 'pid=12\n'],
    ['JSON without a pid', lockContent({ pid: undefined })],
    ['a pid of 0', lockContent({ pid: 0 })],
  ])('refuses a lock file that is %s rather than guessing', async (_name, content) => {
    await writeFile(lockPath, content);
    const error = await lockError();
    expect(error).toMatchObject({ code: 'E_STATE_LOCKED', errorClass: 'conflict' });
    expect(error.hint).toContain(`remove ${lockPath}`);
    expect(await readFile(lockPath, 'utf8')).toBe(content);
  });

  it('fails with E_STATE_LOCK as a conflict when the state directory does not exist', async () => {
    const error = await acquireStateLock(join(dir, 'missing')).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'E_STATE_LOCK', errorClass: 'conflict' });
  });
});

describe('acquireStateLock with a takeover in the way', () => {
  it('clears the takeover lock of a tend that died mid-takeover, then takes the directory', async () => {
    await writeFile(lockPath, lockContent({ pid: await deadPid() }));
    await writeFile(`${lockPath}.takeover`, lockContent({ pid: await deadPid() }));
    await acquire();
    expect(await readdir(dir)).toEqual(['tend.lock']);
    expect(JSON.parse(await readFile(lockPath, 'utf8'))).toMatchObject({ pid: process.pid });
  });

  it('does not remove a dead tend’s lock while a live tend holds the takeover lock', async () => {
    const stale = lockContent({ pid: await deadPid() });
    const other = holder();
    expect((await other.outcome).ok).toBe(true);
    await rm(lockPath);
    await writeFile(lockPath, stale);
    // A takeover that never finishes: its holder (the live holder process) is stuck as far as we can see.
    await writeFile(`${lockPath}.takeover`, lockContent({ pid: other.child.pid }));
    const error = await lockError();
    expect(error).toMatchObject({ code: 'E_STATE_LOCKED', errorClass: 'conflict' });
    expect(error.message).toContain('another tend keeps it busy');
    expect(await readFile(lockPath, 'utf8')).toBe(stale);
  });
});

describe('StateLock.release', () => {
  it('can be called twice', async () => {
    const lock = await acquire();
    await lock.release();
    await lock.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it('leaves a lock that is no longer this holder’s', async () => {
    const lock = await acquire();
    const someoneElse = lockContent({ pid: process.pid, token: 'e'.repeat(32) });
    await writeFile(lockPath, someoneElse);
    await lock.release();
    expect(await readFile(lockPath, 'utf8')).toBe(someoneElse);
  });
});
