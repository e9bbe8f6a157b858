import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HarnessError } from './errors.js';
import { LOCK_DIR, STATE_DIR } from './layout.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Serialises start and stop between processes (the CLI in one terminal, vitest in another): two of them
 * plugging the same veth or mounting the same overlay would leave a half-built host. A lock whose owner
 * died is taken over.
 */
export async function withHarnessLock<T>(action: () => Promise<T>, waitMs = 300_000): Promise<T> {
  await mkdir(STATE_DIR, { recursive: true });
  const deadline = Date.now() + waitMs;
  const pidFile = join(LOCK_DIR, 'pid');
  for (;;) {
    try {
      await mkdir(LOCK_DIR);
      await writeFile(pidFile, `${process.pid}\n`);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
      if (owner === process.pid) {
        throw new HarnessError(
          'E_HARNESS_LOCKED',
          'the harness lock is already held by this process (a nested start/stop)',
          'this is a bug in the harness: start and stop must not call each other',
        );
      }
      if (Number.isInteger(owner) && owner > 0 && !alive(owner)) {
        await rm(LOCK_DIR, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new HarnessError(
          'E_HARNESS_LOCKED',
          `another process (pid ${owner || 'unknown'}) has been starting or stopping hosts for ${waitMs / 1000}s`,
          `wait for it, or if it hangs, kill it and remove ${LOCK_DIR}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    return await action();
  } finally {
    await rm(LOCK_DIR, { recursive: true, force: true });
  }
}
