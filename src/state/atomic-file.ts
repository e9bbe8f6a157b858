import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * The one way state files reach the disk. A reader must see either the old content or the new, never a
 * mix or an empty file, after a crash at any instant, power loss included: so the data goes to a temp
 * file in the same directory (rename is atomic only within one file system), is fsynced before the
 * rename (otherwise ext4 and xfs may commit the rename first and leave a zero-length file), and the
 * directory is fsynced after it (otherwise the rename itself may be lost).
 */

/**
 * Writes `data` to a new file next to `target` and makes it durable; returns its path. The name is
 * unique per call, so overlapping writes in one process never share a temp file.
 */
export async function writeDurableTemp(target: string, data: string, mode: number): Promise<string> {
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', mode);
  try {
    // open()'s mode passes through the umask (tend.service sets UMask=0077): a file others must read,
    // such as a file_sd target file for Prometheus, gets its mode only from an explicit chmod.
    await handle.chmod(mode);
    await handle.writeFile(data, 'utf8');
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  return temp;
}

export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Replaces `target` with `data` atomically and durably (see the top of this file), creating it with `mode`. */
export async function writeFileAtomically(target: string, data: string, mode: number): Promise<void> {
  const temp = await writeDurableTemp(target, data, mode);
  try {
    await rename(temp, target);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dirname(target));
}
