import { randomBytes } from 'node:crypto';
import { readFile, link, rename, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';

import { TendError } from '../errors/index.js';
import { syncDirectory, writeDurableTemp } from './atomic-file.js';
import { errnoOf, fsErrorClass } from './fs-errors.js';

/**
 * Two tends acting on one state directory would both roll out, both revert and overwrite each other's
 * journal. The lock file `<state_dir>/tend.lock` says who holds the directory: pid, host, boot and the
 * process's start time, which together tell a live holder from one that died (kill -9, power loss, a
 * reboot that handed its pid to another process).
 */
export interface StateLock {
  readonly path: string;
  /** Removes the lock file if it is still this holder's; safe to call more than once. */
  release(): Promise<void>;
}

interface LockOwner {
  readonly pid: number;
  readonly hostname: string;
  /** /proc/sys/kernel/random/boot_id: a pid from an earlier boot says nothing about this one. */
  readonly bootId: string | undefined;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot): tells a reused pid from the holder. */
  readonly processStart: string | undefined;
  readonly acquiredAt: string;
  /** Unique per acquisition, so release and takeover compare the holder, not just a pid. */
  readonly token: string;
}

const LOCK_FILE = 'tend.lock';
/** A takeover holds its lock for a few system calls; 50 looks 20 ms apart outlast any that is not stuck. */
const LOCK_ATTEMPTS = 50;
const TAKEOVER_WAIT_MS = 20;

/** A lock file's content, or undefined once it is gone; any other failure is a state directory tend cannot use. */
async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return undefined;
    throw cannotLock(dirname(path), error);
  }
}

/** Outside Linux, or with /proc hidden, the checks that need /proc are skipped rather than failed. */
async function readProc(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').catch(() => undefined);
}

async function bootId(): Promise<string | undefined> {
  return (await readProc('/proc/sys/kernel/random/boot_id'))?.trim();
}

interface ProcessInfo {
  readonly start: string;
  readonly zombie: boolean;
}

async function processInfo(pid: number): Promise<ProcessInfo | undefined> {
  const stat = await readProc(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // The command name (field 2) is in parentheses and may itself contain spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const start = fields[19];
  return state === undefined || start === undefined ? undefined : { start, zombie: state === 'Z' };
}

function parseOwner(text: string): LockOwner | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const owner = value as Record<string, unknown>;
  const optionalString = (key: string): boolean => owner[key] === undefined || typeof owner[key] === 'string';
  const valid =
    Number.isSafeInteger(owner['pid']) &&
    (owner['pid'] as number) > 0 &&
    typeof owner['hostname'] === 'string' &&
    typeof owner['acquiredAt'] === 'string' &&
    typeof owner['token'] === 'string' &&
    optionalString('bootId') &&
    optionalString('processStart');
  return valid ? (owner as unknown as LockOwner) : undefined;
}

type Liveness = 'alive' | 'dead' | 'unknown-host';

/** Whether the holder is still running: the pid exists, in this boot, and is the same process. */
async function liveness(owner: LockOwner, self: Omit<LockOwner, 'token' | 'acquiredAt'>): Promise<Liveness> {
  if (owner.hostname !== self.hostname) return 'unknown-host';
  if (owner.bootId !== undefined && self.bootId !== undefined && owner.bootId !== self.bootId) return 'dead';
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: the pid exists but belongs to another user, so it is alive as far as we can tell.
    if (errnoOf(error) === 'ESRCH') return 'dead';
  }
  const info = await processInfo(owner.pid);
  if (info === undefined) return 'alive';
  if (info.zombie) return 'dead';
  return owner.processStart !== undefined && owner.processStart !== info.start ? 'dead' : 'alive';
}

function lockedError(dir: string, path: string, owner: LockOwner, where: Liveness): TendError {
  if (where === 'unknown-host') {
    return new TendError('E_STATE_LOCKED', 'conflict', `another tend (pid ${owner.pid} on ${owner.hostname}) holds ${dir}`, {
      hint: `tend cannot tell from here whether that process still runs. If it does not, remove ${path} and start again.`,
    });
  }
  return new TendError('E_STATE_LOCKED', 'conflict', `another tend (pid ${owner.pid}) is running on ${dir}`, {
    hint: 'Stop that tend first (systemctl stop tend), or give this one its own state directory (--state-dir).',
  });
}

/**
 * Takes the state directory for this process, or throws E_STATE_LOCKED (conflict) naming the holder.
 *
 * The lock file is created with link(2) from a complete temp file: like O_CREAT|O_EXCL it fails with
 * EEXIST when the file exists, and unlike it the file is never seen empty, so a crash while taking the
 * lock cannot leave a lock nobody can judge.
 *
 * Removing a dead holder's lock cannot be one atomic step ("unlink if it is still that file" does not
 * exist), so takeovers are serialised by a second lock, `tend.lock.takeover`: only its holder removes the
 * main lock, and only after reading it again and finding the same dead holder. Nothing else removes a lock
 * but its own live holder, so that re-check cannot be overtaken; the new lock is then created with link(2)
 * like any other, and of several tends only one can win that.
 */
export async function acquireStateLock(stateDir: string): Promise<StateLock> {
  const path = join(stateDir, LOCK_FILE);
  const self = { pid: process.pid, hostname: hostname(), bootId: await bootId(), processStart: (await processInfo(process.pid))?.start };
  const owner: LockOwner = { ...self, acquiredAt: new Date().toISOString(), token: randomBytes(16).toString('hex') };
  const content = `${JSON.stringify(owner)}\n`;

  for (let attempt = 0; attempt < LOCK_ATTEMPTS; attempt++) {
    if (await createExclusive(path, content)) {
      await syncDirectory(stateDir).catch((error: unknown) => {
        throw cannotLock(stateDir, error);
      });
      return { path, release: () => releaseLock(path, owner.token) };
    }
    const existing = await readOptional(path);
    // Gone since link(2) said it exists: its holder released it; try again.
    if (existing === undefined) continue;
    const holder = judge(path, stateDir, existing);
    const alive = await liveness(holder, self);
    if (alive !== 'dead') throw lockedError(stateDir, path, holder, alive);
    await takeOver(path, existing, self, owner.token);
  }
  throw new TendError('E_STATE_LOCKED', 'conflict', `could not take the lock ${path}: another tend keeps it busy`, {
    hint: `Another tend is starting, stopping or stuck taking over ${stateDir}; stop it. A leftover ${path}.takeover of a process that no longer runs is removed automatically.`,
  });
}

function judge(path: string, stateDir: string, text: string): LockOwner {
  const owner = parseOwner(text);
  if (owner !== undefined) return owner;
  throw new TendError('E_STATE_LOCKED', 'conflict', `the lock file ${path} exists but is not one tend wrote`, {
    hint: `Make sure no tend runs on ${stateDir}, then remove ${path}.`,
  });
}

/** Removes the dead holder's lock `judged`, unless another tend is doing so or already did. */
async function takeOver(path: string, judged: string, self: Omit<LockOwner, 'token' | 'acquiredAt'>, token: string): Promise<void> {
  const mutex = `${path}.takeover`;
  const mutexContent = `${JSON.stringify({ ...self, acquiredAt: new Date().toISOString(), token })}\n`;
  if (!(await createExclusive(mutex, mutexContent))) {
    const text = await readOptional(mutex);
    if (text === undefined) return;
    if ((await liveness(judge(mutex, dirname(path), text), self)) === 'dead') await moveStaleAside(mutex, text);
    else await new Promise((resolve) => setTimeout(resolve, TAKEOVER_WAIT_MS));
    return;
  }
  try {
    if ((await readOptional(path)) === judged) {
      await unlink(path).catch((error: unknown) => {
        if (errnoOf(error) !== 'ENOENT') throw cannotLock(dirname(path), error);
      });
    }
  } finally {
    await releaseLock(mutex, token);
  }
}

/**
 * Removes a takeover lock whose holder died in the middle of a takeover: rename it aside (only one tend's
 * rename succeeds), then check it is the one judged dead. The race accepted here: if a live tend replaced
 * it between our read and our rename, we moved a live takeover lock aside and put it back with link(2); a
 * third tend taking the takeover lock in that instant makes two takeovers at once. That needs a tend to
 * die inside a takeover and three more to start on the directory within microseconds.
 */
async function moveStaleAside(path: string, judged: string): Promise<void> {
  const aside = `${path}.stale.${process.pid}.${randomBytes(6).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch (error) {
    // Another tend moved it first; the next attempt sees what is there now.
    if (errnoOf(error) === 'ENOENT') return;
    throw cannotLock(dirname(path), error);
  }
  if ((await readOptional(aside)) !== judged) await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

function cannotLock(stateDir: string, error: unknown): TendError {
  return new TendError('E_STATE_LOCK', fsErrorClass(error), `cannot use the lock file in ${stateDir}: ${error instanceof Error ? error.message : String(error)}`, {
    hint: 'The state directory must exist and be writable by the user tend runs as (StateDirectory=tend in the systemd unit does both).',
    cause: error,
  });
}

/** True when this call created the lock file, false when one already exists. */
async function createExclusive(path: string, content: string): Promise<boolean> {
  let temp: string;
  try {
    temp = await writeDurableTemp(path, content, 0o644);
  } catch (error) {
    throw cannotLock(dirname(path), error);
  }
  try {
    await link(temp, path);
    return true;
  } catch (error) {
    if (errnoOf(error) === 'EEXIST') return false;
    throw cannotLock(dirname(path), error);
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

async function releaseLock(path: string, token: string): Promise<void> {
  const current = await readOptional(path);
  if (current === undefined || parseOwner(current)?.token !== token) return;
  await unlink(path).catch((error: unknown) => {
    if (errnoOf(error) !== 'ENOENT') throw cannotLock(dirname(path), error);
  });
}
