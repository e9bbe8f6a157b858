import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HarnessError } from './errors.js';
import { HARNESS_DIR, ROOTFS_CACHE_DIR, ROOTFS_CACHE_PREFIX, ROOTFS_DIR, ROOTFS_VERSION_FILE, STATE_DIR } from './layout.js';
import { exists } from './prerequisites.js';
import { runCommand } from './run-command.js';

const SUITE = 'bookworm';
const MIRROR = process.env['TEND_HARNESS_MIRROR'] ?? 'http://deb.debian.org/debian';
const CUSTOMIZE_SCRIPT = join(HARNESS_DIR, 'customize-rootfs.sh');
/**
 * What a host needs to look like a small server that tend deploys to: systemd as PID 1, sshd with SFTP,
 * sudo for the deploy user, busybox for test services (httpd, nc), iproute2; python3 only because Ansible,
 * the peer bench/ measures tend against, runs its modules with the host's python.
 */
const PACKAGES = [
  'systemd',
  'systemd-sysv',
  'dbus',
  'openssh-server',
  'openssh-sftp-server',
  'sudo',
  'busybox',
  'iproute2',
  'procps',
  'python3',
];

export type RootfsSource = 'present' | 'extracted' | 'built';

export interface RootfsResult {
  readonly source: RootfsSource;
  readonly version: string;
  readonly tarball: string;
  readonly seconds: number;
}

/** 16 hex digits over everything that shapes the image, so an edit to the recipe rebuilds it. */
export async function rootfsVersion(): Promise<string> {
  const script = await readFile(CUSTOMIZE_SCRIPT);
  return createHash('sha256')
    .update(`${SUITE}\n${PACKAGES.join(',')}\n`)
    .update(script)
    .digest('hex')
    .slice(0, 16);
}

export function rootfsTarball(version: string): string {
  return join(ROOTFS_CACHE_DIR, `${ROOTFS_CACHE_PREFIX}${version}.tar`);
}

async function presentVersion(): Promise<string | undefined> {
  try {
    return (await readFile(ROOTFS_VERSION_FILE, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

// Numeric owners: the image's users (deploy, sshd, messagebus) do not exist on this machine.
const TAR_FLAGS = ['--numeric-owner', '--xattrs', '--xattrs-include=*'];

/**
 * Makes ROOTFS_DIR hold the current image: as it is if the version matches, else from the cached tarball,
 * else by debootstrap (about a minute) followed by writing the tarball. `hostsRunning` guards the one
 * unsafe case: replacing the lower layer under mounted overlays.
 */
export async function ensureRootfs(
  hostsRunning: () => Promise<boolean>,
  log: (line: string) => void = () => undefined,
): Promise<RootfsResult> {
  const started = performance.now();
  const version = await rootfsVersion();
  const tarball = rootfsTarball(version);
  const done = (source: RootfsSource): RootfsResult => ({
    source,
    version,
    tarball,
    seconds: (performance.now() - started) / 1000,
  });
  if ((await presentVersion()) === version && (await exists(ROOTFS_DIR))) return done('present');
  if (await hostsRunning()) {
    throw new HarnessError(
      'E_HARNESS_ROOTFS',
      'the host image changed (customize-rootfs.sh or its package list) while hosts are running on the old one',
      'stop them first: `npx tsx test/e2e/harness/cli.ts down`',
    );
  }
  await mkdir(STATE_DIR, { recursive: true });
  const staging = `${ROOTFS_DIR}.new`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  let source: RootfsSource;
  if (await exists(tarball)) {
    log(`extracting cached rootfs ${tarball}`);
    await runCommand('tar', [...TAR_FLAGS, '-C', staging, '-xf', tarball]);
    source = 'extracted';
  } else {
    await buildRootfs(staging, tarball, log);
    source = 'built';
  }
  await rm(ROOTFS_DIR, { recursive: true, force: true });
  await rename(staging, ROOTFS_DIR);
  await writeFile(ROOTFS_VERSION_FILE, `${version}\n`);
  return done(source);
}

async function buildRootfs(target: string, tarball: string, log: (line: string) => void): Promise<void> {
  const debootstrapLog = join(STATE_DIR, 'debootstrap.log');
  log(`debootstrapping ${SUITE} from ${MIRROR} (about a minute, once per machine; log: ${debootstrapLog})`);
  const result = await runCommand(
    'debootstrap',
    ['--variant=minbase', `--include=${PACKAGES.join(',')}`, SUITE, target, MIRROR],
    { allowFailure: true },
  );
  await writeFile(debootstrapLog, result.stdout + result.stderr);
  if (result.code !== 0) {
    throw new HarnessError(
      'E_HARNESS_ROOTFS',
      `debootstrap of ${SUITE} failed (exit ${result.code ?? 'none'}):\n${result.stderr.trim().split('\n').slice(-10).join('\n')}`,
      `read ${debootstrapLog}; check that ${MIRROR} is reachable or set TEND_HARNESS_MIRROR`,
    );
  }
  await runCommand('sh', [CUSTOMIZE_SCRIPT, target]);
  log(`writing rootfs cache ${tarball}`);
  // Older images are dead weight of ~180 MB each once the recipe changed.
  for (const name of await readdir(ROOTFS_CACHE_DIR)) {
    if (name.startsWith(ROOTFS_CACHE_PREFIX)) await rm(join(ROOTFS_CACHE_DIR, name), { force: true });
  }
  await runCommand('tar', [...TAR_FLAGS, '-C', target, '-cf', `${tarball}.tmp`, '.']);
  await rename(`${tarball}.tmp`, tarball);
}
