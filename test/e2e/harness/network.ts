import { readFile, writeFile } from 'node:fs/promises';
import { BRIDGE, BRIDGE_ADDRESS, NETNS_PREFIX, VETH_PREFIX, hostAddress, netnsName, vethName } from './layout.js';
import { runCommand } from './run-command.js';

/**
 * The hosts' private network: bridge tend-br0 (10.78.0.1/24) on this machine, and per host a network
 * namespace whose only interface, host0, is the far end of a veth plugged into the bridge. No NAT, no
 * default route: hosts reach each other and this machine, nothing else.
 */
export async function ensureBridge(): Promise<void> {
  const present = await runCommand('ip', ['link', 'show', BRIDGE], { allowFailure: true });
  if (present.code !== 0) {
    await runCommand('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
  }
  await runCommand('ip', ['addr', 'replace', `${BRIDGE_ADDRESS}/24`, 'dev', BRIDGE]);
  await runCommand('ip', ['link', 'set', BRIDGE, 'up']);
}

export async function removeBridge(): Promise<void> {
  await runCommand('ip', ['link', 'del', BRIDGE], { allowFailure: true });
}

/** Idempotent; also brings a link a fault took down back up, so a reused host starts reachable. */
export async function ensureHostNetwork(index: number): Promise<void> {
  const ns = netnsName(index);
  const veth = vethName(index);
  await runCommand('ip', ['netns', 'add', ns], { allowFailure: true });
  const present = await runCommand('ip', ['link', 'show', veth], { allowFailure: true });
  if (present.code !== 0) {
    await runCommand('ip', ['-n', ns, 'link', 'del', 'host0'], { allowFailure: true });
    await runCommand('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'host0', 'netns', ns]);
  }
  await runCommand('ip', ['link', 'set', veth, 'master', BRIDGE, 'up']);
  await runCommand('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  await runCommand('ip', ['-n', ns, 'addr', 'replace', `${hostAddress(index)}/24`, 'dev', 'host0']);
  await runCommand('ip', ['-n', ns, 'link', 'set', 'host0', 'up']);
}

export async function removeHostNetwork(index: number): Promise<void> {
  // Deleting the veth is synchronous; deleting the netns only drops a reference.
  await runCommand('ip', ['link', 'del', vethName(index)], { allowFailure: true });
  await runCommand('ip', ['netns', 'del', netnsName(index)], { allowFailure: true });
}

/** Indexes of every harness netns or veth present, including ones an interrupted run left behind. */
export async function leftoverNetworkIndexes(): Promise<number[]> {
  const indexes = new Set<number>();
  const namespaces = await runCommand('ip', ['netns', 'list'], { allowFailure: true });
  for (const match of namespaces.stdout.matchAll(new RegExp(`^${NETNS_PREFIX}(\\d+)\\b`, 'gm'))) {
    indexes.add(Number(match[1]));
  }
  const links = await runCommand('ip', ['-o', 'link', 'show'], { allowFailure: true });
  for (const match of links.stdout.matchAll(new RegExp(`^\\d+: ${VETH_PREFIX}(\\d+)[@:]`, 'gm'))) {
    indexes.add(Number(match[1]));
  }
  return [...indexes].sort((a, b) => a - b);
}

const INOTIFY_INSTANCES = '/proc/sys/fs/inotify/max_user_instances';

/**
 * Every systemd inside a host holds about six inotify instances, all charged to root; with the default
 * limit of 128, host ~21 fails to boot with "Failed to allocate manager object: Too many open files".
 * Only ever raised, never lowered: other software on the machine may rely on the current value.
 */
export async function ensureInotifyInstances(hosts: number): Promise<void> {
  const wanted = hosts * 16 + 256;
  const current = Number((await readFile(INOTIFY_INSTANCES, 'utf8')).trim());
  if (current < wanted) await writeFile(INOTIFY_INSTANCES, `${wanted}\n`);
}
