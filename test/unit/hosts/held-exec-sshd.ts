import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, utils, type ServerChannel } from 'ssh2';

/**
 * An SSH server inside the test process (ssh2's own server, so no sshd binary is needed) that holds
 * every command it is asked to run until the test lets it finish, and counts how many run at once across
 * all its connections. What it proves is how many commands the client side lets through, which is the
 * pool's job; it does not emulate a shell. Test infrastructure only.
 */
export interface HeldExecSshd {
  readonly port: number;
  /** `ssh-ed25519 AAAA...`, to pin. */
  readonly hostKey: string;
  readonly clientKeyPath: string;
  /** Commands running now (started, not yet finished). */
  readonly running: number;
  /** The most that ever ran at once since the last `resetPeak`. */
  readonly peak: number;
  resetPeak(): void;
  /** Lets the oldest running command exit 0; false when none runs. */
  finishOne(): boolean;
  /** Resolves once `running` satisfies the predicate (checked whenever a command starts or finishes). */
  until(predicate: (running: number) => boolean): Promise<void>;
  stop(): Promise<void>;
}

export async function startHeldExecSshd(): Promise<HeldExecSshd> {
  const dir = await mkdtemp(join(tmpdir(), 'tend-held-sshd-'));
  const host = utils.generateKeyPairSync('ed25519');
  const client = utils.generateKeyPairSync('ed25519');
  const clientKeyPath = join(dir, 'client');
  await writeFile(clientKeyPath, client.private, { mode: 0o600 });
  const allowed = utils.parseKey(client.public);
  if (allowed instanceof Error) throw allowed;

  const held: ServerChannel[] = [];
  const waiters: Array<{ predicate: (running: number) => boolean; resolve: () => void }> = [];
  let peak = 0;
  const changed = (): void => {
    peak = Math.max(peak, held.length);
    for (const waiter of [...waiters]) {
      if (!waiter.predicate(held.length)) continue;
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  };

  const server = new Server({ hostKeys: [host.private] }, (connection) => {
    connection.on('error', () => undefined);
    connection.on('authentication', (context) => {
      const offered = context.method === 'publickey' ? context.key : undefined;
      if (offered !== undefined && offered.algo === allowed.type && offered.data.equals(allowed.getPublicSSH())) context.accept();
      else context.reject(['publickey']);
    });
    connection.on('ready', () => {
      connection.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('exec', (acceptExec) => {
          const channel = acceptExec();
          held.push(channel);
          changed();
          channel.on('close', () => {
            const at = held.indexOf(channel);
            if (at === -1) return;
            held.splice(at, 1);
            changed();
          });
        });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    hostKey: host.public,
    clientKeyPath,
    get running() {
      return held.length;
    },
    get peak() {
      return peak;
    },
    resetPeak() {
      peak = held.length;
    },
    finishOne() {
      const channel = held.shift();
      if (channel === undefined) return false;
      channel.exit(0);
      channel.end();
      changed();
      return true;
    },
    until(predicate) {
      if (predicate(held.length)) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push({ predicate, resolve }));
    },
    async stop() {
      while (held.length > 0) held.shift()?.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
