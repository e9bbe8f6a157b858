import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { hostPids } from './harness/cgroups.js';
import { startHosts, stopHosts, type TestHost } from './harness/hosts.js';
import { HOSTS_DIR } from './harness/layout.js';
import { runCommand } from './harness/run-command.js';
import { connectToHost } from './harness/ssh-client.js';

const HOSTS = 20;

/** MemAvailable, and "used" as free(1) computes it (total - free - buffers - cache - reclaimable slab). */
async function memoryKiB(): Promise<{ available: number; used: number }> {
  const meminfo = await readFile('/proc/meminfo', 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(meminfo)?.[1] ?? 0);
  return {
    available: field('MemAvailable'),
    used: field('MemTotal') - field('MemFree') - field('Buffers') - field('Cached') - field('SReclaimable'),
  };
}

/** Proportional set size of every process of a host: shared pages split among the processes sharing them. */
async function hostPssKiB(host: TestHost): Promise<number> {
  let total = 0;
  for (const pid of await hostPids(host.name)) {
    const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
    total += Number(/^Pss:\s+(\d+) kB$/m.exec(rollup)?.[1] ?? 0);
  }
  return total;
}

const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;

// Prints what scale costs on this machine; it asserts only that every host works, never how fast.
describe('scale', () => {
  it(`brings up ${HOSTS} hosts that all answer SSH as deploy with their pinned keys`, async () => {
    await stopHosts();
    const before = await memoryKiB();
    const started = performance.now();
    const hosts = await startHosts(HOSTS);
    const startSeconds = (performance.now() - started) / 1000;
    expect(hosts.map((host) => host.address)).toEqual(Array.from({ length: HOSTS }, (_, i) => `10.78.0.${11 + i}`));

    const states = await Promise.all(
      hosts.map(async (host) => {
        const ssh = await connectToHost(host);
        const result = await ssh.execCommand('hostname; sudo -n systemctl is-system-running');
        ssh.dispose();
        return result.stdout;
      }),
    );
    expect(states).toEqual(hosts.map((host) => `${host.name}\nrunning`));

    const after = await memoryKiB();
    const availableDrop = before.available - after.available;
    const usedGrowth = after.used - before.used;
    const pss = await Promise.all(hosts.map(hostPssKiB));
    // -x: the merged overlay mounts would count the whole shared image once per host.
    const disk = (await runCommand('du', ['-skx', HOSTS_DIR])).stdout.split('\t')[0];
    console.log(
      [
        `${HOSTS} hosts started from nothing to "all running and answering SSH" in ${startSeconds.toFixed(1)} s`,
        `memory: MemAvailable dropped by ${mib(availableDrop)} (${mib(availableDrop / HOSTS)} per host); ` +
          `"used" grew by ${mib(usedGrowth)} (${mib(usedGrowth / HOSTS)} per host)`,
        `memory: PSS per host min ${mib(Math.min(...pss))}, mean ${mib(pss.reduce((a, b) => a + b, 0) / HOSTS)}, max ${mib(Math.max(...pss))}`,
        `disk: overlay state ${mib(Number(disk) / HOSTS)} per host`,
      ].join('\n'),
    );
  });
});
