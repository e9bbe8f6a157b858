import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll } from 'vitest';
import { SshPool, type SshHost } from '../../../src/hosts/index.js';
import { freePort } from '../../support/free-port.js';

/**
 * A real OpenSSH server on 127.0.0.1 with its own host key, authorising one generated client key for root:
 * the SSH layer is tested against the real thing, not a mock of ssh2. Test infrastructure only.
 */

const run = promisify(execFile);

export interface LoopbackSshd {
  readonly dir: string;
  readonly port: number;
  /** `ssh-ed25519 AAAA...` of the server's host key. */
  readonly hostKey: string;
  /** Another valid Ed25519 key: what an impostor would present. */
  readonly otherHostKey: string;
  readonly clientKeyPath: string;
  /** A well-formed key the server does not authorise. */
  readonly refusedKeyPath: string;
  stop(): Promise<void>;
}

async function keygen(path: string): Promise<string> {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', path]);
  const pub = await readFile(`${path}.pub`, 'utf8');
  return pub.trim().split(/\s+/).slice(0, 2).join(' ');
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startLoopbackSshd(): Promise<LoopbackSshd> {
  const dir = await mkdtemp(join(tmpdir(), 'tend-sshd-'));
  const hostKey = await keygen(join(dir, 'host_ed25519'));
  const otherHostKey = await keygen(join(dir, 'other_host_ed25519'));
  const clientPub = await keygen(join(dir, 'client'));
  await keygen(join(dir, 'refused'));
  // sshd reads authorized_keys as the user logging in: readable by a non-root test user too. It holds only
  // the client's public key; the private keys in the directory stay 0600.
  await writeFile(join(dir, 'authorized_keys'), `${clientPub}\n`, { mode: 0o644 });
  await chmod(dir, 0o755);
  const port = await freePort();
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(dir, 'host_ed25519')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    // The temp dir is world-readable under /tmp; the keys in it are throwaway.
    'StrictModes no',
    'Subsystem sftp internal-sftp',
    process.env['TEND_SSHD_LOGLEVEL'] === undefined ? 'LogLevel ERROR' : `LogLevel ${process.env['TEND_SSHD_LOGLEVEL']}`,
  ].join('\n');
  await writeFile(join(dir, 'sshd_config'), `${config}\n`);
  // sshd refuses to start without its privilege-separation directory (normally made by the service unit).
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const child: ChildProcess = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  // A missing binary is an 'error' event, not a throw: without a listener it is an uncaught exception.
  child.once('error', (error) => {
    log += `${error.message} (test/unit/global-setup.ts installs openssh-server)`;
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    log += chunk.toString();
    if (process.env['TEND_SSHD_LOGLEVEL'] !== undefined) process.stderr.write(chunk);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let attempt = 0; !(await accepts(port)); attempt += 1) {
    if (child.exitCode !== null || child.pid === undefined || attempt > 100) {
      child.kill('SIGKILL');
      throw new Error(`loopback sshd did not start: ${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    dir,
    port,
    hostKey,
    otherHostKey,
    clientKeyPath: join(dir, 'client'),
    refusedKeyPath: join(dir, 'refused'),
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A TCP forwarder to the loopback sshd that counts the connections it accepts: what a host sees. */
export interface CountingProxy {
  readonly port: number;
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

export async function startCountingProxy(targetPort: number): Promise<CountingProxy> {
  let accepted = 0;
  const sockets = new Set<Socket>();
  const server = createServer((incoming) => {
    accepted += 1;
    const outgoing = connect({ host: '127.0.0.1', port: targetPort });
    for (const socket of [incoming, outgoing]) {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    incoming.pipe(outgoing).pipe(incoming);
    incoming.once('close', () => outgoing.destroy());
    outgoing.once('close', () => incoming.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the counting proxy has no TCP port');
  return {
    port: address.port,
    connections: () => accepted,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A throwaway login user on this machine for the loopback sshd: no sudoers rule (so `sudo -n` asks for a
 * password), and a home on a tiny tmpfs that is full once a few KiB are written. Removed by `remove()`.
 */
export interface ThrowawayUser {
  readonly name: string;
  readonly home: string;
  remove(): Promise<void>;
}

export async function createThrowawayUser(homeBytes: number): Promise<ThrowawayUser> {
  const name = `tendt${process.pid}`;
  const home = await mkdtemp(join(tmpdir(), 'tend-home-'));
  // A run killed before its cleanup leaves its user behind; the name is this process's, so it is ours.
  await run('userdel', [name]).catch(() => undefined);
  // '*' rather than useradd's locked '!': sshd without PAM refuses a locked account even for key logins.
  await run('useradd', ['--no-create-home', '--home-dir', home, '--shell', '/bin/sh', '--password', '*', name]);
  try {
    await mountTinyTmpfs(home, homeBytes);
    await run('chown', [`${name}:${name}`, home]);
  } catch (error) {
    await run('userdel', [name]).catch(() => undefined);
    throw error;
  }
  return {
    name,
    home,
    async remove() {
      await unmount(home);
      await rm(home, { recursive: true, force: true });
      // --force: the user's sshd session may still be closing, and plain userdel refuses a user in use.
      await run('userdel', ['--force', name]);
    },
  };
}

/** A tmpfs of `bytes` at `dir`: a filesystem a test can fill in a moment. Needs root, as the loopback sshd does. */
export async function mountTinyTmpfs(dir: string, bytes: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  await run('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0755`, 'tend-test-full', dir]);
}

export async function unmount(dir: string): Promise<void> {
  await run('umount', ['--lazy', dir]).catch(() => undefined);
}

/** The loopback sshd as a host tend talks to, as root, through a pool of its own: one per test file. */
export interface LoopbackHost {
  readonly sshd: LoopbackSshd;
  readonly host: SshHost;
  readonly pool: SshPool;
}

/**
 * Starts a loopback sshd and a pool for the test file that calls it (in its top level), and stops both
 * after; `current()` is valid inside tests and hooks that run after the file's first `beforeAll`.
 */
export function useLoopbackHost(options: { readonly keepaliveIntervalMs?: number } = {}): { current(): LoopbackHost } {
  let current: LoopbackHost | undefined;
  beforeAll(async () => {
    const sshd = await startLoopbackSshd();
    const host: SshHost = { name: 'loopback', address: '127.0.0.1', port: sshd.port, user: 'root', hostKey: sshd.hostKey };
    const pool = new SshPool({ privateKeyPath: sshd.clientKeyPath, connectTimeoutMs: 10_000, ...(options.keepaliveIntervalMs === undefined ? {} : { keepaliveIntervalMs: options.keepaliveIntervalMs }) });
    current = { sshd, host, pool };
  }, 30_000);
  afterAll(async () => {
    await current?.pool.close();
    await current?.sshd.stop();
  });
  return {
    current() {
      if (current === undefined) throw new Error('the loopback sshd is not started: call useLoopbackHost at the top of the test file');
      return current;
    },
  };
}
