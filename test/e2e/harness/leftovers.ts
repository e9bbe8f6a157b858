import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BRIDGE, CGROUP_SUBTREE, HARNESS_DIR, HOSTS_DIR, NETNS_PREFIX, NSPAWN_RUN_DIR, VETH_PREFIX } from './layout.js';
import { runCommand } from './run-command.js';

/** What of the harness is still on this machine; all empty after a clean stopHosts(). */
export interface HarnessLeftovers {
  readonly netns: string[];
  readonly links: string[];
  readonly mounts: string[];
  readonly cgroups: string[];
  readonly processes: string[];
}

async function findCgroupDirs(dir: string, depth: number): Promise<string[]> {
  if (depth === 0) return [];
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const found: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const path = join(dir, entry.name);
    if (entry.name.startsWith(CGROUP_SUBTREE)) found.push(path);
    else found.push(...(await findCgroupDirs(path, depth - 1)));
  }
  return found;
}

/**
 * Looks at the machine the way a person would (`ip netns`, `ip link`, mountinfo, /sys/fs/cgroup, /proc),
 * not at the harness's own bookkeeping, so it also catches what the bookkeeping lost.
 */
export async function findHarnessLeftovers(): Promise<HarnessLeftovers> {
  const netns = (await runCommand('ip', ['netns', 'list'])).stdout
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(NETNS_PREFIX));
  const links = (await runCommand('ip', ['-o', 'link', 'show'])).stdout
    .split('\n')
    .map((line) => (line.split(': ')[1] ?? '').split('@')[0] ?? '')
    .filter((name) => name === BRIDGE || name.startsWith(VETH_PREFIX));
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((mountPoint) => mountPoint.startsWith(HOSTS_DIR) || mountPoint === NSPAWN_RUN_DIR);
  // Depth 3 reaches the v1 controller hierarchies (/sys/fs/cgroup/<controller>/<ours>) and nested roots.
  const cgroups = await findCgroupDirs('/sys/fs/cgroup', 3);
  const processes: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ').trim();
    const cgroup = await readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => '');
    // By our names only: the shared testbed's nspawn hosts may run on the same machine.
    const ours =
      cgroup.includes(`:/${CGROUP_SUBTREE}/`) ||
      cmdline.includes(`/run/netns/${NETNS_PREFIX}`) ||
      cmdline.includes(join(HARNESS_DIR, 'run-host.sh'));
    if (ours) processes.push(`${pid} ${cmdline}`);
  }
  return { netns, links, mounts, cgroups, processes };
}
