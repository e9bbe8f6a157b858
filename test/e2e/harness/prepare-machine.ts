import { ensureRootfs, type RootfsResult } from './rootfs.js';
import { anyHostRunning } from './hosts.js';
import { assertCanRunHosts, ensurePackages } from './prerequisites.js';

export interface PreparedMachine {
  readonly installedPackages: readonly string[];
  readonly rootfs: RootfsResult;
}

/**
 * Everything before the first host can start, in order: root, packages (apt-get on a fresh machine), the
 * capabilities nspawn needs, and the host image (debootstrapped once, then cached). Throws a HarnessError
 * saying what is missing; it never skips.
 */
export async function prepareMachine(log: (line: string) => void): Promise<PreparedMachine> {
  const installedPackages = await ensurePackages(log);
  await assertCanRunHosts();
  const rootfs = await ensureRootfs(anyHostRunning, log);
  return { installedPackages, rootfs };
}
