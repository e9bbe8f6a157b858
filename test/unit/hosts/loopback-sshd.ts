import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
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
  await writeFile(join(dir, 'authorized_keys'), `${clientPub}\n`, { mode: 0o600 });
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
