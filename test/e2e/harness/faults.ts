import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEPLOY_SUDOERS,
  DEPLOY_SUDOERS_FILE,
  FAULT_TABLE,
  FILL_DEFAULT_PATH,
  FILL_FS_SOURCE,
  execInHost,
  installHostKey,
  pinnedHostKeyPath,
  sshBanner,
  type TestHost,
} from './hosts.js';
import { netnsName, vethName } from './layout.js';
import { runCommand } from './run-command.js';

/** An applied fault. `restore()` undoes it and is safe to call more than once. */
export interface Fault {
  readonly host: string;
  readonly description: string;
  restore(): Promise<void>;
}

async function waitForSsh(host: TestHost): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if (await sshBanner(host.address, host.port, 1000)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * The host's network cable pulled: its veth goes down on the bridge side, so packets to it vanish
 * (connects time out, or fail with "no route" once ARP gives up). Processes inside keep running.
 */
export async function takeLinkDown(host: TestHost): Promise<Fault> {
  await runCommand('ip', ['link', 'set', vethName(host.index), 'down']);
  return {
    host: host.name,
    description: 'link down',
    restore: async () => {
      await runCommand('ip', ['link', 'set', vethName(host.index), 'up']);
      await waitForSsh(host);
    },
  };
}

/**
 * A firewall in front of sshd, set from outside in the host's netns (the host cannot see or undo it):
 * `drop` makes connects time out, `reject` answers with a TCP reset (connection refused).
 */
export async function blockSshPort(host: TestHost, mode: 'drop' | 'reject'): Promise<Fault> {
  const verdict = mode === 'drop' ? 'drop' : 'reject with tcp reset';
  const ruleset = `table inet ${FAULT_TABLE} {\n  chain input {\n    type filter hook input priority 0; policy accept;\n    tcp dport ${host.port} ${verdict}\n  }\n}\n`;
  await removeFaultTable(host);
  await runCommand('ip', ['netns', 'exec', netnsName(host.index), 'nft', '-f', '-'], { input: ruleset });
  return { host: host.name, description: `port ${host.port} ${mode}`, restore: () => removeFaultTable(host) };
}

async function removeFaultTable(host: TestHost): Promise<void> {
  await runCommand('ip', ['netns', 'exec', netnsName(host.index), 'nft', 'delete', 'table', 'inet', FAULT_TABLE], {
    allowFailure: true,
  });
}

/** sshd stopped by systemd inside the host: connects are refused; sessions already open survive. */
export async function stopSshd(host: TestHost): Promise<Fault> {
  await execInHost(host, ['systemctl', 'stop', 'ssh.service']);
  return {
    host: host.name,
    description: 'sshd stopped',
    restore: async () => {
      await execInHost(host, ['systemctl', 'start', 'ssh.service']);
      await waitForSsh(host);
    },
  };
}

export interface FillOptions {
  /** Default /var/lib/tend, where tend keeps its releases. */
  readonly path?: string;
  /** Size of the filesystem; default 1 MiB. */
  readonly sizeKiB?: number;
}

/**
 * A full disk at `path`: a small tmpfs is mounted there (inside the host's mount namespace only) and
 * filled to the last block. Whatever was in the directory is hidden until restore, as with a real
 * separate filesystem that filled up.
 */
export async function fillFilesystem(host: TestHost, options: FillOptions = {}): Promise<Fault> {
  const path = options.path ?? FILL_DEFAULT_PATH;
  const sizeKiB = options.sizeKiB ?? 1024;
  const script =
    `set -e; mkdir -p "$1"; mount -t tmpfs -o "size=$2k,mode=0755" ${FILL_FS_SOURCE} "$1"; ` +
    // dd ends with "No space left on device" (exit 1): that is the point.
    'dd if=/dev/zero of="$1/.tend-e2e-fill" bs=4k 2>/dev/null || true';
  await execInHost(host, ['sh', '-c', script, 'fill', path, String(sizeKiB)]);
  return {
    host: host.name,
    description: `${path} full (${sizeKiB} KiB tmpfs)`,
    restore: async () => {
      // Only our own tmpfs: never unmount something the host mounted there itself.
      const unmount = `findmnt -n -o SOURCE --mountpoint "$1" | grep -qx ${FILL_FS_SOURCE} && umount "$1" || true`;
      await execInHost(host, ['sh', '-c', unmount, 'restore', path]);
    },
  };
}

/**
 * `sudo -n` asks the deploy account for a password it does not have (sudoers without NOPASSWD), as on a
 * host whose sudoers someone tightened: SSH logins work, every privileged command is refused.
 */
export async function requireSudoPassword(host: TestHost): Promise<Fault> {
  const write = (line: string) => execInHost(host, ['sh', '-c', 'printf "%s\\n" "$1" >"$2" && chmod 0440 "$2" && visudo -cq', 'sudoers', line, DEPLOY_SUDOERS_FILE]);
  await write(DEPLOY_SUDOERS.replace('NOPASSWD: ', ''));
  return { host: host.name, description: 'sudo needs a password', restore: async () => void (await write(DEPLOY_SUDOERS)) };
}

export interface HostKeyFault extends Fault {
  /** The key the host presents now, `ssh-ed25519 AAAA…`. */
  readonly newHostKey: string;
}

/** The host presents a different host key (as after a reinstall, or a machine in the middle). */
export async function changeHostKey(host: TestHost): Promise<HostKeyFault> {
  const dir = await mkdtemp(join(tmpdir(), 'tend-e2e-hostkey-'));
  try {
    const key = join(dir, 'key');
    await runCommand('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${host.name}-changed`, '-f', key]);
    await installHostKey(host.index, key);
    await execInHost(host, ['systemctl', 'restart', 'ssh.service']);
    await waitForSsh(host);
    const [type, blob] = (await runCommand('ssh-keygen', ['-y', '-f', key])).stdout.trim().split(/\s+/);
    return {
      host: host.name,
      description: 'host key changed',
      newHostKey: `${type} ${blob}`,
      restore: async () => {
        await installHostKey(host.index, await pinnedHostKeyPath(host.index));
        await execInHost(host, ['systemctl', 'restart', 'ssh.service']);
        await waitForSsh(host);
      },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
