import { readdir, readFile, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CGROUP_SUBTREE } from './layout.js';
import { cgroupRoots, exists } from './prerequisites.js';

/**
 * Each host runs in its own cgroup, `tend-e2e/<name>`, in every hierarchy systemd uses. Without it, with
 * `--keep-unit` and no systemd on this machine, all hosts share one cgroup tree and stopping a unit on one
 * host kills the same unit's processes on every other host (REPORT.md, finding 3).
 */
export async function hostCgroupDirs(name: string): Promise<string[]> {
  return (await cgroupRoots()).map((root) => join(root, CGROUP_SUBTREE, name));
}

async function subtreeDirs(dir: string): Promise<string[]> {
  const dirs: string[] = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return dirs;
  }
  for (const entry of entries) {
    if (entry.isDirectory()) dirs.push(...(await subtreeDirs(join(dir, entry.name))));
  }
  dirs.push(dir);
  return dirs;
}

/** Every process of a host (supervisor, nspawn and everything inside the container). */
export async function hostPids(name: string): Promise<number[]> {
  const pids = new Set<number>();
  for (const dir of await hostCgroupDirs(name)) {
    for (const sub of await subtreeDirs(dir)) {
      try {
        for (const line of (await readFile(join(sub, 'cgroup.procs'), 'utf8')).split('\n')) {
          if (line.trim() !== '') pids.add(Number(line));
        }
      } catch {
        // removed while we walked it
      }
    }
  }
  return [...pids].sort((a, b) => a - b);
}

/** Deepest first, because a cgroup directory can only be removed once it has no children. */
export async function removeHostCgroups(name: string): Promise<void> {
  for (const dir of await hostCgroupDirs(name)) {
    for (const sub of await subtreeDirs(dir)) await rmdir(sub).catch(() => undefined);
  }
  for (const root of await cgroupRoots()) await rmdir(join(root, CGROUP_SUBTREE)).catch(() => undefined);
}

/** Host names with a cgroup left in any hierarchy. */
export async function hostsWithCgroups(): Promise<string[]> {
  const names = new Set<string>();
  for (const root of await cgroupRoots()) {
    const subtree = join(root, CGROUP_SUBTREE);
    if (!(await exists(subtree))) continue;
    for (const entry of await readdir(subtree, { withFileTypes: true })) {
      if (entry.isDirectory()) names.add(entry.name);
    }
  }
  return [...names];
}
