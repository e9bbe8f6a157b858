import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HarnessError } from './errors.js';

/**
 * Every name and address the harness puts on this machine, in one place, so that teardown and the
 * leftover checks look for exactly what start created. 10.78.0.0/24 on purpose: the shared testbed
 * (`/work/shared/testbed`) uses 10.77.0.0/24 and both may exist on one machine.
 */
export const STATE_DIR = process.env['TEND_HARNESS_DIR'] ?? '/var/tmp/tend-e2e';

/** `TEND_HARNESS_KEEP=1` leaves hosts running after a test run or the demo, for the next run or for poking. */
export function keepHostsRequested(): boolean {
  return process.env['TEND_HARNESS_KEEP'] === '1';
}
export const HOSTS_DIR = join(STATE_DIR, 'hosts');
export const ROOTFS_DIR = join(STATE_DIR, 'rootfs');
export const ROOTFS_VERSION_FILE = join(STATE_DIR, 'rootfs.version');
export const CLIENT_KEY_PATH = join(STATE_DIR, 'client', 'id_ed25519');
export const KNOWN_HOSTS_PATH = join(STATE_DIR, 'known_hosts');
export const HOSTS_JSON_PATH = join(STATE_DIR, 'hosts.json');
/** Host keys of hosts 4..N, generated once and kept so a host keeps its identity across runs. */
export const GENERATED_HOST_KEYS_DIR = join(STATE_DIR, 'host-keys');
export const LOCK_DIR = join(STATE_DIR, 'lock');
/** The cached rootfs lives outside STATE_DIR so that wiping the state keeps the slow part. */
export const ROOTFS_CACHE_DIR = '/var/tmp';
export const ROOTFS_CACHE_PREFIX = 'tend-e2e-rootfs-';

export const HARNESS_DIR = fileURLToPath(new URL('.', import.meta.url));
/** Committed keys of hosts 1..3: the example deploy repo pins them. */
export const COMMITTED_HOST_KEYS_DIR = join(HARNESS_DIR, 'host-keys');

export const BRIDGE = 'tend-br0';
export const SUBNET = '10.78.0';
export const BRIDGE_ADDRESS = `${SUBNET}.1`;
export const NETNS_PREFIX = 'tend-ns';
export const VETH_PREFIX = 'tend-v';
/** Our subtree in every cgroup hierarchy that systemd inside a host uses. */
export const CGROUP_SUBTREE = 'tend-e2e';
/** nspawn's scratch directory; it refuses to clean it up unless it is a tmpfs (REPORT.md). */
export const NSPAWN_RUN_DIR = '/run/systemd/nspawn';

export const SSH_PORT = 22;
export const DEPLOY_USER = 'deploy';
/** Host addresses are 10.78.0.(10+i); .254 is the last usable one. */
export const MAX_HOSTS = 244;

export function hostName(index: number): string {
  return `host-${index}`;
}

export function hostAddress(index: number): string {
  return `${SUBNET}.${10 + index}`;
}

export function netnsName(index: number): string {
  return `${NETNS_PREFIX}${index}`;
}

/** The machine-side end of a host's veth pair; the host side is always `host0`, as nspawn names it. */
export function vethName(index: number): string {
  return `${VETH_PREFIX}${index}`;
}

export function hostDir(index: number): string {
  return join(HOSTS_DIR, hostName(index));
}

export function hostIndex(name: string): number {
  const match = /^host-(\d+)$/.exec(name);
  const index = match?.[1] === undefined ? Number.NaN : Number(match[1]);
  if (!Number.isInteger(index) || index < 1 || index > MAX_HOSTS) {
    throw new HarnessError(
      'E_HARNESS_HOST_UNKNOWN',
      `"${name}" is not a harness host name`,
      `use host-1 .. host-${MAX_HOSTS}`,
    );
  }
  return index;
}
