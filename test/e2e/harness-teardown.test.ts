import { describe, expect, it } from 'vitest';
import { stopHosts } from './harness/hosts.js';
import { findHarnessLeftovers } from './harness/leftovers.js';
import { runCommand } from './harness/run-command.js';
import { connectToHost } from './harness/ssh-client.js';
import { useHosts } from './harness/use-hosts.js';

describe('teardown', () => {
  it('leaves no netns, link, mount, cgroup or process of the harness behind', async () => {
    const hosts = await useHosts(2);
    // A running service inside a host: its processes must go too.
    const ssh = await connectToHost(hosts[0]!);
    await ssh.execCommand('sudo -n systemd-run --unit=e2e-sleeper sleep 600');
    ssh.dispose();
    // The check must be able to see the harness, or its empty answer below proves nothing.
    const running = await findHarnessLeftovers();
    expect(running.netns).toEqual(['tend-ns1', 'tend-ns2']);
    expect(running.links).toEqual(expect.arrayContaining(['tend-br0', 'tend-v1', 'tend-v2']));
    expect(running.mounts.length).toBeGreaterThanOrEqual(2);
    expect(running.cgroups.length).toBeGreaterThan(0);
    expect(running.processes.length).toBeGreaterThan(0);

    await stopHosts();

    const leftovers = await findHarnessLeftovers();
    const netns = (await runCommand('ip', ['netns', 'list'])).stdout.trim();
    const links = (await runCommand('ip', ['-br', 'link'])).stdout.trim();
    console.log(`after stopHosts():\nip netns list: ${netns || '(empty)'}\nip -br link:\n${links}\nharness leftovers: ${JSON.stringify(leftovers)}`);
    expect(leftovers).toEqual({ netns: [], links: [], mounts: [], cgroups: [], processes: [] });
  });

  it('is idempotent: stopping with nothing running succeeds and still leaves nothing', async () => {
    await stopHosts();
    expect(await findHarnessLeftovers()).toEqual({ netns: [], links: [], mounts: [], cgroups: [], processes: [] });
  });
});
