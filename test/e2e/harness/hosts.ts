import { spawn } from 'node:child_process';
import { chmod, chown, copyFile, mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { hostCgroupDirs, hostPids, hostsWithCgroups, removeHostCgroups } from './cgroups.js';
import { HarnessError } from './errors.js';
import {
  CLIENT_KEY_PATH,
  COMMITTED_HOST_KEYS_DIR,
  DEPLOY_USER,
  GENERATED_HOST_KEYS_DIR,
  HARNESS_DIR,
  HOSTS_DIR,
  HOSTS_JSON_PATH,
  KNOWN_HOSTS_PATH,
  MAX_HOSTS,
  NSPAWN_RUN_DIR,
  ROOTFS_DIR,
  SSH_PORT,
  STATE_DIR,
  hostAddress,
  hostDir,
  hostIndex,
  hostName,
  netnsName,
} from './layout.js';
import { withHarnessLock } from './lock.js';
import {
  ensureBridge,
  ensureHostNetwork,
  ensureInotifyInstances,
  leftoverNetworkIndexes,
  removeBridge,
  removeHostNetwork,
} from './network.js';
import { exists } from './prerequisites.js';
import { runCommand, type RunOptions, type RunResult } from './run-command.js';

/** One running test host, as a test or tend's inventory needs it. */
export interface TestHost {
  readonly name: string;
  readonly index: number;
  readonly address: string;
  readonly port: number;
  /** The unprivileged account tend deploys as; `sudo -n` runs anything. `root` accepts the same key. */
  readonly user: string;
  readonly privateKeyPath: string;
  /** `ssh-ed25519 AAAA…`, without a comment: what an inventory pins. */
  readonly hostKey: string;
  /** A known_hosts file with every running host, for OpenSSH's StrictHostKeyChecking. */
  readonly knownHostsPath: string;
}

export interface StartHostsOptions {
  readonly log?: (line: string) => void;
  /** Per host, from start to sshd answering and systemd reporting `running`. Default 90 s. */
  readonly bootTimeoutMs?: number;
}

/** Names the faults in faults.ts use, so that a reused host can be cleaned of them. */
export const FAULT_TABLE = 'tend_fault';
export const FILL_FS_SOURCE = 'tend-e2e-full';
export const FILL_DEFAULT_PATH = '/var/lib/tend';
/** The deploy account's sudoers entry as customize-rootfs.sh writes it (requireSudoPassword edits it). */
export const DEPLOY_SUDOERS_FILE = '/etc/sudoers.d/deploy';
export const DEPLOY_SUDOERS = 'deploy ALL=(ALL:ALL) NOPASSWD: ALL';

const RUN_HOST_SCRIPT = join(HARNESS_DIR, 'run-host.sh');
const NSPAWN_TMPFS_MARKER = join(STATE_DIR, 'nspawn-tmpfs-mounted');
const SUPERVISOR_STOP_MS = 20_000;
const ZOMBIE_REAP_MS = 15_000;

function hostPaths(index: number) {
  const dir = hostDir(index);
  return {
    dir,
    upper: join(dir, 'upper'),
    work: join(dir, 'work'),
    merged: join(dir, 'merged'),
    pidFile: join(dir, 'supervisor.pid'),
    consoleLog: join(dir, 'console.log'),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The pid of the host's supervisor if it is alive (checked by its command line, pids get reused). */
async function supervisorPid(index: number): Promise<number | undefined> {
  const pid = Number((await readFile(hostPaths(index).pidFile, 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  const argv = cmdline.split('\0');
  return argv.some((arg) => arg.endsWith('run-host.sh')) && argv.includes(hostName(index)) ? pid : undefined;
}

/** Indexes of hosts with state on disk, running or not. */
async function knownHostIndexes(): Promise<number[]> {
  const entries = await readdir(HOSTS_DIR).catch(() => [] as string[]);
  return entries
    .filter((entry) => /^host-\d+$/.test(entry))
    .map((entry) => hostIndex(entry))
    .sort((a, b) => a - b);
}

export async function anyHostRunning(): Promise<boolean> {
  for (const index of await knownHostIndexes()) {
    if ((await supervisorPid(index)) !== undefined) return true;
  }
  return false;
}

async function isMountpoint(path: string): Promise<boolean> {
  return (await runCommand('mountpoint', ['-q', path], { allowFailure: true })).code === 0;
}

async function ensureClientKey(): Promise<void> {
  if (await exists(CLIENT_KEY_PATH)) return;
  await mkdir(dirname(CLIENT_KEY_PATH), { recursive: true, mode: 0o700 });
  await runCommand('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'tend-e2e-client', '-f', CLIENT_KEY_PATH]);
}

/** Private key path of a host's identity: committed for hosts 1..3, generated once and cached for others. */
export async function pinnedHostKeyPath(index: number): Promise<string> {
  const committed = join(COMMITTED_HOST_KEYS_DIR, hostName(index));
  if (await exists(committed)) return committed;
  const generated = join(GENERATED_HOST_KEYS_DIR, hostName(index));
  if (!(await exists(generated))) {
    await mkdir(GENERATED_HOST_KEYS_DIR, { recursive: true, mode: 0o700 });
    await runCommand('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `tend-test-${hostName(index)}`, '-f', generated]);
  }
  return generated;
}

/** `ssh-ed25519 AAAA…` of the key a host is meant to present. */
export async function pinnedHostKey(index: number): Promise<string> {
  const pub = await readFile(`${await pinnedHostKeyPath(index)}.pub`, 'utf8');
  const [type, blob] = pub.trim().split(/\s+/);
  return `${type} ${blob}`;
}

/** Writes a host key into a host's root (mode 0600, as sshd insists); used at start and by the key fault. */
export async function installHostKey(index: number, privateKeyPath: string): Promise<void> {
  const target = join(hostPaths(index).merged, 'etc/ssh/ssh_host_ed25519_key');
  await copyFile(privateKeyPath, target);
  await chmod(target, 0o600);
  await copyFile(`${privateKeyPath}.pub`, `${target}.pub`);
  await chmod(`${target}.pub`, 0o644);
}

async function userIds(root: string, user: string): Promise<{ uid: number; gid: number }> {
  const line = (await readFile(join(root, 'etc/passwd'), 'utf8')).split('\n').find((l) => l.startsWith(`${user}:`));
  const fields = line?.split(':') ?? [];
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

async function authorizeClientKey(root: string, user: string, home: string): Promise<void> {
  const { uid, gid } = await userIds(root, user);
  const sshDir = join(root, home, '.ssh');
  await mkdir(sshDir, { recursive: true });
  await chmod(sshDir, 0o700);
  await chown(sshDir, uid, gid);
  const authorized = join(sshDir, 'authorized_keys');
  await copyFile(`${CLIENT_KEY_PATH}.pub`, authorized);
  await chmod(authorized, 0o600);
  await chown(authorized, uid, gid);
}

/** Mounts a fresh overlay and gives the host its identity: hostname, host key, authorised client key. */
async function prepareRoot(index: number): Promise<void> {
  const paths = hostPaths(index);
  await mkdir(paths.upper, { recursive: true });
  await mkdir(paths.work, { recursive: true });
  await mkdir(paths.merged, { recursive: true });
  if (!(await isMountpoint(paths.merged))) {
    await runCommand('mount', [
      '-t',
      'overlay',
      'overlay',
      '-o',
      `lowerdir=${ROOTFS_DIR},upperdir=${paths.upper},workdir=${paths.work}`,
      paths.merged,
    ]);
  }
  const name = hostName(index);
  await writeFile(join(paths.merged, 'etc/hostname'), `${name}\n`);
  // sudo resolves its own host name and prints a warning on stderr when it cannot.
  await writeFile(join(paths.merged, 'etc/hosts'), `127.0.0.1\tlocalhost\n127.0.1.1\t${name}\n::1\tlocalhost\n`);
  await installHostKey(index, await pinnedHostKeyPath(index));
  await authorizeClientKey(paths.merged, 'root', 'root');
  await authorizeClientKey(paths.merged, DEPLOY_USER, `home/${DEPLOY_USER}`);
}

async function killHostProcesses(index: number): Promise<void> {
  const name = hostName(index);
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const pids = await hostPids(name);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await sleep(100);
  }
}

async function launchSupervisor(index: number): Promise<void> {
  const paths = hostPaths(index);
  const consoleLog = await open(paths.consoleLog, 'a');
  try {
    const child = spawn(
      'sh',
      [RUN_HOST_SCRIPT, hostName(index), paths.merged, netnsName(index), ...(await hostCgroupDirs(hostName(index)))],
      // Own session: the host outlives a test worker or the CLI when TEND_HARNESS_KEEP=1.
      { detached: true, stdio: ['ignore', consoleLog.fd, consoleLog.fd] },
    );
    if (child.pid === undefined) {
      throw new HarnessError(
        'E_HARNESS_HOST_BOOT',
        `could not start the supervisor of ${hostName(index)}`,
        'check that /bin/sh and systemd-nspawn exist',
      );
    }
    child.unref();
    await writeFile(paths.pidFile, `${child.pid}\n`);
  } finally {
    await consoleLog.close();
  }
}

async function consoleTail(index: number): Promise<string> {
  const text = await readFile(hostPaths(index).consoleLog, 'utf8').catch(() => '');
  return text.trim().split('\n').slice(-20).join('\n');
}

/** Resolves once the address answers with an SSH banner; a TCP accept alone may be a half-started sshd. */
export function sshBanner(address: string, port = SSH_PORT, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let data = '';
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.on('error', () => finish(false));
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1');
      if (data.includes('\n')) finish(data.startsWith('SSH-2.0-'));
    });
    socket.connect(port, address);
  });
}

/** OpenSSH client arguments with strict host-key checking against the harness known_hosts. */
export function sshArgs(host: Pick<TestHost, 'address' | 'port'>, user: string, timeoutSeconds = 5): string[] {
  return [
    '-i',
    CLIENT_KEY_PATH,
    '-p',
    String(host.port),
    '-o',
    `UserKnownHostsFile=${KNOWN_HOSTS_PATH}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    `ConnectTimeout=${timeoutSeconds}`,
    '-o',
    'LogLevel=ERROR',
    `${user}@${host.address}`,
  ];
}

async function waitForBoot(index: number, timeoutMs: number): Promise<void> {
  const name = hostName(index);
  const address = hostAddress(index);
  const deadline = Date.now() + timeoutMs;
  while (!(await sshBanner(address, SSH_PORT, 1000))) {
    if ((await supervisorPid(index)) === undefined) {
      throw new HarnessError(
        'E_HARNESS_HOST_BOOT',
        `${name} stopped while booting; last console lines:\n${await consoleTail(index)}`,
        `read ${hostPaths(index).consoleLog}`,
      );
    }
    if (Date.now() > deadline) {
      throw new HarnessError(
        'E_HARNESS_HOST_BOOT',
        `${name}: no sshd on ${address}:${SSH_PORT} after ${timeoutMs / 1000}s; last console lines:\n${await consoleTail(index)}`,
        `read ${hostPaths(index).consoleLog}; raise TEND_HARNESS_BOOT_TIMEOUT (seconds) on a slow machine`,
      );
    }
    await sleep(100);
  }
  const remaining = Math.max(5_000, deadline - Date.now());
  const state = await runCommand(
    'ssh',
    [...sshArgs({ address, port: SSH_PORT }, 'root'), 'systemctl is-system-running --wait; systemctl --failed --no-legend --plain'],
    { allowFailure: true, timeoutMs: remaining },
  );
  const [systemState = '', ...failed] = state.stdout.trim().split('\n');
  if (systemState !== 'running') {
    throw new HarnessError(
      'E_HARNESS_HOST_BOOT',
      `${name} booted into state "${systemState || state.stderr.trim()}"; failed units: ${failed.join('; ') || 'none listed'}`,
      `inspect it with \`npx tsx test/e2e/harness/cli.ts ssh ${name} journalctl -b\``,
    );
  }
}

async function writeClientFiles(hosts: readonly TestHost[]): Promise<void> {
  const knownHosts = hosts.map((host) => `${host.address} ${host.hostKey}\n`).join('');
  // Temp + rename: an ssh or a test reading these mid-write must see the old or the new file, never half.
  await writeFile(`${KNOWN_HOSTS_PATH}.tmp`, knownHosts);
  await rename(`${KNOWN_HOSTS_PATH}.tmp`, KNOWN_HOSTS_PATH);
  await writeFile(`${HOSTS_JSON_PATH}.tmp`, `${JSON.stringify(hosts, null, 2)}\n`);
  await rename(`${HOSTS_JSON_PATH}.tmp`, HOSTS_JSON_PATH);
}

async function describeHost(index: number): Promise<TestHost> {
  return {
    name: hostName(index),
    index,
    address: hostAddress(index),
    port: SSH_PORT,
    user: DEPLOY_USER,
    privateKeyPath: CLIENT_KEY_PATH,
    hostKey: await pinnedHostKey(index),
    knownHostsPath: KNOWN_HOSTS_PATH,
  };
}

async function ensureNspawnScratchTmpfs(): Promise<void> {
  await mkdir(NSPAWN_RUN_DIR, { recursive: true });
  if (await isMountpoint(NSPAWN_RUN_DIR)) return;
  await runCommand('mount', ['-t', 'tmpfs', '-o', 'mode=0755', 'tmpfs', NSPAWN_RUN_DIR]);
  await writeFile(NSPAWN_TMPFS_MARKER, '');
}

/**
 * Brings hosts host-1..host-n up and returns them once each answers SSH and its systemd is `running`.
 * Idempotent: running hosts are reused (a leftover link-down or firewall fault on them is undone), hosts
 * above n are stopped. Needs the rootfs (global setup builds it) and root.
 */
export async function startHosts(n: number, options: StartHostsOptions = {}): Promise<TestHost[]> {
  if (!Number.isInteger(n) || n < 1 || n > MAX_HOSTS) {
    throw new HarnessError('E_HARNESS_USAGE', `cannot start ${n} hosts`, `ask for 1 to ${MAX_HOSTS}`);
  }
  if (!(await exists(join(ROOTFS_DIR, 'etc/os-release')))) {
    throw new HarnessError(
      'E_HARNESS_ROOTFS',
      `no host image at ${ROOTFS_DIR}`,
      'run the e2e global setup (`npx vitest run --project e2e`) or `npx tsx test/e2e/harness/cli.ts up 1` to build it',
    );
  }
  const log = options.log ?? (() => undefined);
  const bootTimeoutMs = options.bootTimeoutMs ?? Number(process.env['TEND_HARNESS_BOOT_TIMEOUT'] ?? 90) * 1000;
  return withHarnessLock(async () => {
    await mkdir(HOSTS_DIR, { recursive: true });
    await ensureClientKey();
    await ensureNspawnScratchTmpfs();
    await ensureBridge();
    await ensureInotifyInstances(n);
    const surplus = (await knownHostIndexes()).filter((index) => index > n);
    if (surplus.length > 0) log(`stopping surplus hosts ${surplus.map(hostName).join(' ')}`);
    await stopHostIndexes(surplus);

    const indexes = Array.from({ length: n }, (_, i) => i + 1);
    const hosts = await Promise.all(indexes.map((index) => describeHost(index)));
    const fresh: number[] = [];
    for (const index of indexes) {
      await ensureHostNetwork(index);
      if ((await supervisorPid(index)) !== undefined) {
        await undoLeftoverFaults(index);
        continue;
      }
      // The supervisor died (kill -9, machine hiccup) but container processes may still hold the overlay.
      await killHostProcesses(index);
      await removeHostCgroups(hostName(index));
      await prepareRoot(index);
      await launchSupervisor(index);
      fresh.push(index);
    }
    // known_hosts first: the boot check already logs in with strict host-key checking.
    await writeClientFiles(hosts);
    if (fresh.length > 0) log(`booting ${fresh.map(hostName).join(' ')}`);
    await Promise.all(indexes.map((index) => waitForBoot(index, bootTimeoutMs)));
    return hosts;
  });
}

/**
 * A reused host may carry a fault from a test that crashed before its restore (faults.ts): undo each kind,
 * so every test file starts from hosts that look freshly booted to SSH.
 */
async function undoLeftoverFaults(index: number): Promise<void> {
  const host = { name: hostName(index) };
  await runCommand('ip', ['netns', 'exec', netnsName(index), 'nft', 'delete', 'table', 'inet', FAULT_TABLE], {
    allowFailure: true,
  });
  const installed = await readFile(join(hostPaths(index).merged, 'etc/ssh/ssh_host_ed25519_key.pub'), 'utf8');
  const keyChanged = !installed.startsWith(`${await pinnedHostKey(index)} `);
  if (keyChanged) await installHostKey(index, await pinnedHostKeyPath(index));
  const script =
    `findmnt -n -o SOURCE --mountpoint "$1" | grep -qx ${FILL_FS_SOURCE} && umount "$1"; ` +
    'printf "%s\\n" "$3" >"$4"; chmod 0440 "$4"; ' +
    `if [ "$2" = yes ]; then systemctl restart ssh.service; else systemctl start ssh.service; fi`;
  await execInHost(host, ['sh', '-c', script, 'undo-faults', FILL_DEFAULT_PATH, keyChanged ? 'yes' : 'no', DEPLOY_SUDOERS, DEPLOY_SUDOERS_FILE]);
}

async function unmountHost(index: number): Promise<void> {
  const merged = hostPaths(index).merged;
  if (!(await isMountpoint(merged))) return;
  const result = await runCommand('umount', [merged], { allowFailure: true });
  if (result.code !== 0) await runCommand('umount', ['-l', merged]);
}

async function stopHostIndexes(indexes: readonly number[]): Promise<void> {
  // Ask them all first, so they power off in parallel.
  const supervisors = new Map<number, number>();
  for (const index of indexes) {
    const pid = await supervisorPid(index);
    if (pid === undefined) continue;
    supervisors.set(index, pid);
    process.kill(pid, 'SIGTERM');
  }
  await Promise.all(
    indexes.map(async (index) => {
      const pid = supervisors.get(index);
      if (pid !== undefined) {
        const deadline = Date.now() + SUPERVISOR_STOP_MS;
        while ((await supervisorPid(index)) !== undefined && Date.now() < deadline) await sleep(100);
        // An orphaned supervisor stays a zombie until this machine's PID 1 reaps it, which /process_api
        // does only after a few seconds; "stopped" means gone from the process table.
        while ((await exists(`/proc/${pid}`)) && Date.now() < deadline + ZOMBIE_REAP_MS) await sleep(100);
      }
      await killHostProcesses(index);
      await unmountHost(index);
      await removeHostCgroups(hostName(index));
      await removeHostNetwork(index);
      await rm(hostPaths(index).dir, { recursive: true, force: true });
    }),
  );
}

/** Mounts under the hosts directory, deepest first (from /proc/self/mountinfo). */
async function harnessMounts(): Promise<string[]> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  return mountinfo
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((mountPoint) => mountPoint.startsWith(`${HOSTS_DIR}/`))
    .sort((a, b) => b.length - a.length);
}

/**
 * Stops every host and removes everything start created on this machine: processes, overlay mounts,
 * cgroups, veths, namespaces, the bridge and nspawn's scratch tmpfs. It also sweeps leftovers of an
 * interrupted run. Keeps the caches (rootfs, client key, generated host keys).
 */
export async function stopHosts(): Promise<void> {
  await withHarnessLock(async () => {
    await stopHostIndexes(await knownHostIndexes());
    for (const name of await hostsWithCgroups()) {
      const index = hostIndex(name);
      await killHostProcesses(index);
      await removeHostCgroups(name);
    }
    for (const mountPoint of await harnessMounts()) {
      await runCommand('umount', ['-l', mountPoint], { allowFailure: true });
    }
    for (const index of await leftoverNetworkIndexes()) await removeHostNetwork(index);
    await removeBridge();
    if (await exists(NSPAWN_TMPFS_MARKER)) {
      await runCommand('umount', [NSPAWN_RUN_DIR], { allowFailure: true });
      await rm(NSPAWN_TMPFS_MARKER, { force: true });
    }
    await rm(KNOWN_HOSTS_PATH, { force: true });
    await rm(HOSTS_JSON_PATH, { force: true });
  });
}

/** The hosts whose supervisor is alive, as startHosts returned them. */
export async function runningHosts(): Promise<TestHost[]> {
  const hosts: TestHost[] = [];
  for (const index of await knownHostIndexes()) {
    if ((await supervisorPid(index)) !== undefined) hosts.push(await describeHost(index));
  }
  return hosts;
}

export interface HostStatus {
  readonly name: string;
  readonly address: string;
  readonly supervisorPid: number | undefined;
  readonly sshAnswers: boolean;
  readonly processes: number;
}

export async function hostStatuses(): Promise<HostStatus[]> {
  return Promise.all(
    (await knownHostIndexes()).map(async (index) => ({
      name: hostName(index),
      address: hostAddress(index),
      supervisorPid: await supervisorPid(index),
      sshAnswers: await sshBanner(hostAddress(index)),
      processes: (await hostPids(hostName(index))).length,
    })),
  );
}

/** PID (on this machine) of the host's systemd: the process that is PID 1 in its own pid namespace. */
export async function hostInitPid(host: Pick<TestHost, 'name'>): Promise<number> {
  for (const pid of await hostPids(host.name)) {
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    const nspid = /^NSpid:\s+(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/) ?? [];
    if (nspid.length > 1 && nspid[nspid.length - 1] === '1') return pid;
  }
  throw new HarnessError(
    'E_HARNESS_HOST_UNKNOWN',
    `${host.name} is not running`,
    'start it with startHosts()/useHosts() or `npx tsx test/e2e/harness/cli.ts up N`',
  );
}

/**
 * Runs a command inside a host as root without SSH (nsenter into its namespaces), so faults that cut SSH
 * off can still be applied and undone.
 */
export async function execInHost(
  host: Pick<TestHost, 'name'>,
  argv: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const pid = await hostInitPid(host);
  return runCommand('nsenter', ['-t', String(pid), '-m', '-u', '-i', '-n', '-p', '-r', '-w', '--', ...argv], {
    // A host whose systemd hangs must fail the test, not stall it until vitest's hook timeout.
    timeoutMs: 60_000,
    ...options,
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', ...options.env },
  });
}

/** Where a host's root filesystem is mounted on this machine (the overlay's merged directory). */
export function hostRoot(host: Pick<TestHost, 'index'>): string {
  return hostPaths(host.index).merged;
}
