import { createHash } from 'node:crypto';
import { NodeSSH } from 'node-ssh';
import type { TestHost } from './hosts.js';

/** The hex sha256 of a key blob: what ssh2 hands `hostVerifier` when `hostHash: 'sha256'` is set. */
export function hostKeySha256(hostKey: string): string {
  const blob = hostKey.trim().split(/\s+/)[1] ?? '';
  return createHash('sha256').update(Buffer.from(blob, 'base64')).digest('hex');
}

export interface ConnectOptions {
  /** Default: the host's deploy user. */
  readonly user?: string;
  /** The key to pin, `ssh-ed25519 AAAA…`; default: the host's own. A wrong one must be refused. */
  readonly hostKey?: string;
  readonly readyTimeoutMs?: number;
}

/**
 * node-ssh to a test host with strict host-key pinning. ssh2 accepts any key unless `hostVerifier` is
 * set, and node-ssh leaves no 'error' listener after connect, so a later reset would be an uncaught
 * exception that kills the test worker: one is attached at once.
 */
export async function connectToHost(host: TestHost, options: ConnectOptions = {}): Promise<NodeSSH> {
  const expected = hostKeySha256(options.hostKey ?? host.hostKey);
  const ssh = new NodeSSH();
  await ssh.connect({
    host: host.address,
    port: host.port,
    username: options.user ?? host.user,
    privateKeyPath: host.privateKeyPath,
    hostHash: 'sha256',
    hostVerifier: (fingerprint: string) => fingerprint === expected,
    readyTimeout: options.readyTimeoutMs ?? 10_000,
  });
  // As tend's own pool does: without it, Nagle and delayed ACKs make each command a 44 ms round trip.
  ssh.connection?.setNoDelay(true);
  ssh.connection?.on('error', (error: Error) => {
    process.stderr.write(`e2e harness: ssh connection to ${host.name} failed after connect: ${error.message}\n`);
  });
  return ssh;
}
