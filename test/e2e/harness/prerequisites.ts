import { mkdir, readFile, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ensurePackages as ensureDebianPackages, PackageInstallError, type RequiredProgram } from '../../support/debian-packages.js';
import { CGROUP_SUBTREE } from './layout.js';
import { HarnessError } from './errors.js';
import { runCommand } from './run-command.js';

/** Programs the harness runs on this machine, and the Debian package that provides each. */
const REQUIRED_PROGRAMS: readonly RequiredProgram[] = [
  ['systemd-nspawn', 'systemd-container'],
  ['debootstrap', 'debootstrap'],
  ['ip', 'iproute2'],
  ['ssh', 'openssh-client'],
  ['ssh-keygen', 'openssh-client'],
  ['nft', 'nftables'],
  ['git', 'git'],
  ['nsenter', 'util-linux'],
  ['mountpoint', 'util-linux'],
  ['tar', 'tar'],
];

export function assertRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new HarnessError(
      'E_HARNESS_NOT_ROOT',
      'the e2e harness must run as root: it creates network namespaces, overlay mounts, cgroups and containers',
      'run `npx vitest run --project e2e` as root (the dev VM is root), or run only `--project unit`',
    );
  }
}

/** Installs whatever is missing with apt-get, so a fresh Debian machine needs no manual step. */
export async function ensurePackages(log: (line: string) => void = () => undefined): Promise<string[]> {
  try {
    return await ensureDebianPackages(REQUIRED_PROGRAMS, log);
  } catch (error) {
    if (!(error instanceof PackageInstallError)) throw error;
    throw new HarnessError('E_HARNESS_PACKAGES', error.summary, error.hint, { cause: error.cause ?? error });
  }
}

/**
 * The cgroup directories in which each host gets its own subtree. On this machine's hybrid layout that is
 * both `name=systemd` and the unified hierarchy; on a pure cgroup2 machine it is just the root.
 */
export async function cgroupRoots(): Promise<string[]> {
  const fsType = (await runCommand('stat', ['-f', '-c', '%T', '/sys/fs/cgroup'])).stdout.trim();
  if (fsType === 'cgroup2fs') return ['/sys/fs/cgroup'];
  const roots: string[] = [];
  for (const root of ['/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified']) {
    if (await exists(root)) roots.push(root);
  }
  return roots;
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks, without changing anything lasting, that this machine can run nspawn hosts. Each failure says
 * which capability is missing, because a skipped e2e suite hides exactly the bugs it exists to find.
 */
export async function assertCanRunHosts(): Promise<void> {
  assertRoot();
  const filesystems = await readFile('/proc/filesystems', 'utf8');
  if (!/\toverlay$/m.test(filesystems)) {
    await runCommand('modprobe', ['overlay'], { allowFailure: true });
    if (!/\toverlay$/m.test(await readFile('/proc/filesystems', 'utf8'))) {
      throw new HarnessError(
        'E_HARNESS_UNSUPPORTED',
        'the kernel has no overlayfs; every host is an overlay over one shared rootfs',
        'use a kernel with CONFIG_OVERLAY_FS (the Debian kernel and the dev VM have it)',
      );
    }
  }
  const roots = await cgroupRoots();
  if (roots.length === 0) {
    throw new HarnessError(
      'E_HARNESS_UNSUPPORTED',
      'no systemd or unified cgroup hierarchy under /sys/fs/cgroup; systemd cannot boot inside nspawn',
      'mount cgroup2 at /sys/fs/cgroup (or the hybrid layout) before running the e2e tests',
    );
  }
  for (const root of roots) {
    const probe = join(root, `${CGROUP_SUBTREE}-probe`);
    try {
      await mkdir(probe);
      await rmdir(probe);
    } catch (error) {
      throw new HarnessError(
        'E_HARNESS_UNSUPPORTED',
        `cannot create a cgroup under ${root}; each host needs its own cgroup so that its systemd does not ` +
          "kill another host's processes",
        'run as root on a machine with a writable cgroup tree (not inside an unprivileged container)',
        { cause: error },
      );
    }
  }
  const probeNs = `${CGROUP_SUBTREE}-probe`;
  const added = await runCommand('ip', ['netns', 'add', probeNs], { allowFailure: true });
  await runCommand('ip', ['netns', 'del', probeNs], { allowFailure: true });
  if (added.code !== 0) {
    throw new HarnessError(
      'E_HARNESS_UNSUPPORTED',
      `cannot create a network namespace: ${added.stderr.trim()}`,
      'the harness needs CAP_SYS_ADMIN and CONFIG_NET_NS; run it as root on a VM, not in a container',
    );
  }
  const nspawn = await runCommand('systemd-nspawn', ['--version'], { allowFailure: true });
  if (nspawn.code !== 0) {
    throw new HarnessError(
      'E_HARNESS_UNSUPPORTED',
      `systemd-nspawn does not run: ${nspawn.stderr.trim()}`,
      'reinstall systemd-container (`apt-get install --reinstall systemd-container`)',
    );
  }
}
