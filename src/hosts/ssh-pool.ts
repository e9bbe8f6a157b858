import { readFile } from 'node:fs/promises';
import { NodeSSH } from 'node-ssh';
import type { Client, SFTPWrapper } from 'ssh2';
import { InternalError, TendError } from '../errors/index.js';
import type { HostSpec } from '../spec/model.js';
import {
  hostKeyAlgorithms,
  keyFingerprint,
  keysFromKnownHosts,
  makeHostVerifier,
  parsePinnedKey,
  type HostKeyVerdict,
  type PinnedKey,
} from './host-key.js';
import {
  execOnConnection,
  judgeOutcome,
  type LiveConnection,
  type RemoteRunner,
  type RunOptions,
  type RunResult,
} from './remote-command.js';
import { remoteCommandText, runsThroughSudo } from './shell-quote.js';
import { classifyConnectError, hostKeyError, type ConnectTarget } from './ssh-errors.js';
import { Semaphore } from './semaphore.js';

/** What the pool needs of a host: a HostSpec fits. */
export type SshHost = Pick<HostSpec, 'name' | 'address' | 'port' | 'user' | 'hostKey'>;

/** pino's call shape: a static message, the data in the object. */
export interface SshLogger {
  debug(data: object, message: string): void;
  warn(data: object, message: string): void;
}

export interface SshPoolOptions {
  /** tend's private key (OpenSSH format, unencrypted). Read once; its contents are never logged. */
  readonly privateKeyPath: string;
  /** Pins for hosts whose inventory entry has no hostKey. The inventory's pin always wins. */
  readonly knownHostsPath?: string;
  /** Hosts worked on at once. Default 16. */
  readonly maxConcurrentHosts?: number;
  /** Channels open at once on one connection. Default and maximum 8: OpenSSH's MaxSessions is 10. */
  readonly maxChannelsPerHost?: number;
  /** TCP connect + SSH handshake + authentication. Default 15 s. */
  readonly connectTimeoutMs?: number;
  /** Keepalive interval (default 10 s) and unanswered keepalives before the connection is dropped (default 3). */
  readonly keepaliveIntervalMs?: number;
  readonly keepaliveCountMax?: number;
  /** Default per-command timeout. Default 120 s. */
  readonly commandTimeoutMs?: number;
  /** Default cap on one command's stdout + stderr. Default 64 MiB. */
  readonly maxOutputBytes?: number;
  readonly logger?: SshLogger;
}

const MAX_CHANNELS_PER_HOST = 8;

interface Connection extends LiveConnection {
  readonly ssh: NodeSSH;
  alive: boolean;
}

interface HostSlot {
  readonly channels: Semaphore;
  /** Operations on this host that are queued or running; the host holds an across-hosts slot while > 0. */
  users: number;
  hostLease: Promise<() => void> | undefined;
  connection: Connection | undefined;
  /**
   * The connect in flight, shared by everyone who needs the connection meanwhile. A failed attempt stays
   * here until the host goes idle, so a queue of commands fails fast instead of reconnecting one by one.
   */
  connecting: Promise<Connection> | undefined;
}

/**
 * Connect failures that are the host refusing us, not the network failing: a host key that is not the
 * pinned one, our login refused, no common algorithms. Trying again changes nothing until someone acts, and
 * a stalled service is polled every few seconds: each try would be one more connection a possibly hostile
 * host sees. The pool remembers them until `forgetRefusals`.
 */
const REFUSAL_CODES: ReadonlySet<string> = new Set(['E_HOSTKEY', 'E_SSH_AUTH', 'E_SSH_HANDSHAKE']);

/** The part of the pool the daemon tells when a person or a commit may have fixed what a host refused. */
export interface RefusalMemory {
  forgetRefusals(host?: string): void;
}

interface Refusal {
  /** What was connected to: a different identity (a new pin, address, port or user) is tried at once. */
  readonly identity: string;
  readonly error: TendError;
}

const noopLogger: SshLogger = { debug: () => undefined, warn: () => undefined };

/**
 * One SSH connection per host, opened lazily and reused across steps. Every connection has an 'error'
 * listener from the moment it exists (ssh2 emits 'error' for a reset or a keepalive timeout, and without a
 * listener that kills the process), a pinned host key, keepalives, and at most 8 channels at a time.
 */
export class SshPool implements RemoteRunner, RefusalMemory {
  readonly #options: SshPoolOptions;
  readonly #log: SshLogger;
  readonly #hosts: Semaphore;
  readonly #channelsPerHost: number;
  readonly #slots = new Map<string, HostSlot>();
  /** By host name. */
  readonly #refusals = new Map<string, Refusal>();
  #privateKey: Promise<string> | undefined;
  #closed = false;

  constructor(options: SshPoolOptions) {
    this.#options = options;
    this.#log = options.logger ?? noopLogger;
    this.#hosts = new Semaphore(options.maxConcurrentHosts ?? 16);
    this.#channelsPerHost = Math.min(options.maxChannelsPerHost ?? MAX_CHANNELS_PER_HOST, MAX_CHANNELS_PER_HOST);
  }

  /**
   * Runs argv on the host: quoted word by word, through `sudo -n` when asked and the user is not root,
   * bounded by a timeout, exit code checked. See remote-command.ts for the errors.
   */
  async run(host: SshHost, argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const timeoutMs = options.timeoutMs ?? this.#options.commandTimeoutMs ?? 120_000;
    const commandText = remoteCommandText(host.user, argv, options.sudo === true, timeoutMs, options.journalMark);
    const outcome = await this.withConnection(host, (connection) =>
      execOnConnection(connection, {
        host: host.name,
        argv,
        commandText,
        timeoutMs,
        maxOutputBytes: options.maxOutputBytes ?? this.#options.maxOutputBytes ?? 64 * 1024 * 1024,
        stdin: options.stdin,
        onStdout: options.onStdout,
        stopWhen: options.stopWhen,
      }),
    );
    return judgeOutcome(host.name, argv, outcome, options.okExitCodes, {
      sudoUser: runsThroughSudo(host.user, options.sudo === true) ? host.user : undefined,
      writesTo: options.writesTo,
    });
  }

  /** An SFTP session on the host's connection, holding one of its channel slots, closed afterwards. */
  async withSftp<T>(host: SshHost, work: (sftp: SFTPWrapper) => Promise<T>): Promise<T> {
    return this.withConnection(host, async (connection) => {
      const sftp = await new Promise<SFTPWrapper>((resolve, reject) => {
        try {
          connection.client.sftp((error, opened) => (error === undefined ? resolve(opened) : reject(error)));
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      }).catch((error: unknown) => {
        throw new TendError('E_HOST_UNREACHABLE', 'transient', `${host.name}: could not open an SFTP session`, {
          where: { host: host.name, command: 'sftp' },
          hint: 'tend retries; the host may have SFTP disabled (Subsystem sftp in sshd_config).',
          cause: error,
        });
      });
      // A connection that dies mid-transfer closes the session; errors arrive through the callbacks.
      sftp.on('error', () => undefined);
      try {
        return await work(sftp);
      } finally {
        sftp.end();
      }
    });
  }

  /**
   * Connects (or reuses the connection) and proves the host key, without running anything. For `tend
   * plan`'s reachability column and for tests.
   */
  async connect(host: SshHost): Promise<void> {
    await this.withConnection(host, async () => undefined);
  }

  /**
   * Forgets that a host (or every host) refused us, so the next use connects again. Until then a host that
   * refused (E_HOSTKEY, E_SSH_AUTH, E_SSH_HANDSHAKE) is answered with the same error without connecting,
   * as long as its identity (name, address, port, user, pinned keys) is the same. For `tend retry` and a
   * new commit.
   */
  forgetRefusals(host?: string): void {
    if (host === undefined) this.#refusals.clear();
    else this.#refusals.delete(host);
  }

  /**
   * How many hosts are worked on at once from now on (tend.yml `concurrency`, which each commit may
   * change). Safe while work is in flight: a raise starts queued hosts at once, a cut lets running hosts
   * finish and starts no new one until the pool is under the new limit.
   */
  setConcurrency(hosts: number): void {
    this.#hosts.setLimit(hosts);
  }

  /** The current across-hosts limit. */
  get concurrency(): number {
    return this.#hosts.limit;
  }

  /** Drops one host's connection; the next use reconnects. */
  closeHost(name: string): void {
    const slot = this.#slots.get(name);
    slot?.connection?.client.end();
  }

  /** Closes every connection. The pool refuses work afterwards. */
  async close(): Promise<void> {
    this.#closed = true;
    const closing: Promise<void>[] = [];
    for (const slot of this.#slots.values()) {
      const connection = slot.connection;
      if (connection === undefined) continue;
      closing.push(
        new Promise<void>((resolve) => {
          if (!connection.alive) {
            resolve();
            return;
          }
          const timer = setTimeout(() => {
            connection.client.destroy();
            resolve();
          }, 2_000);
          connection.client.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          connection.client.end();
        }),
      );
    }
    await Promise.all(closing);
  }

  async dispose(): Promise<void> {
    await this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Holds an across-hosts slot (while this host has any work) and one of the host's channel slots. */
  private async withConnection<T>(host: SshHost, work: (connection: Connection) => Promise<T>): Promise<T> {
    if (this.#closed) throw new InternalError('the SSH pool is closed');
    const slot = this.slotFor(host.name);
    slot.users += 1;
    if (slot.users === 1) slot.hostLease = this.#hosts.acquire();
    try {
      await slot.hostLease;
      return await slot.channels.use(async () => work(await this.connectionFor(slot, host)));
    } finally {
      slot.users -= 1;
      if (slot.users === 0) {
        const lease = slot.hostLease;
        slot.hostLease = undefined;
        // Idle now: a failed connect is forgotten, so the next pass tries again.
        slot.connecting = undefined;
        void lease?.then((release) => release());
      }
    }
  }

  private slotFor(name: string): HostSlot {
    let slot = this.#slots.get(name);
    if (slot === undefined) {
      slot = {
        channels: new Semaphore(this.#channelsPerHost),
        users: 0,
        hostLease: undefined,
        connection: undefined,
        connecting: undefined,
      };
      this.#slots.set(name, slot);
    }
    return slot;
  }

  private connectionFor(slot: HostSlot, host: SshHost): Promise<Connection> {
    if (slot.connection?.alive === true) return Promise.resolve(slot.connection);
    if (slot.connecting === undefined) {
      const connecting = this.openConnection(host, slot).then((connection) => {
        slot.connection = connection;
        if (slot.connecting === connecting) slot.connecting = undefined;
        return connection;
      });
      // Awaited by every user; this only keeps a failure nobody awaits from being reported as unhandled.
      connecting.catch(() => undefined);
      slot.connecting = connecting;
    }
    return slot.connecting;
  }

  private async openConnection(host: SshHost, slot: HostSlot): Promise<Connection> {
    const target: ConnectTarget = { host: host.name, address: host.address, port: host.port, user: host.user };
    const pinned = await this.pinnedKeys(host, target);
    const pinnedFingerprints = pinned.map((key) => keyFingerprint(key.blob));
    const identity = JSON.stringify([host.name, host.address, host.port, host.user, pinnedFingerprints]);
    const refusal = this.#refusals.get(host.name);
    if (refusal !== undefined) {
      if (refusal.identity === identity) {
        this.#log.debug({ host: host.name, code: refusal.error.code }, 'ssh connect skipped: the host refused before');
        throw refusal.error;
      }
      this.#refusals.delete(host.name);
    }
    const privateKey = await this.privateKey(target);
    let verdict: HostKeyVerdict | undefined;

    const ssh = new NodeSSH();
    // privateKey (not privateKeyPath) on purpose: node-ssh then creates the ssh2 Client synchronously inside
    // connect(), so our 'error' listener is attached below before any network event can fire.
    const connecting = ssh.connect({
      host: host.address,
      port: host.port,
      username: host.user,
      privateKey,
      readyTimeout: this.#options.connectTimeoutMs ?? 15_000,
      keepaliveInterval: this.#options.keepaliveIntervalMs ?? 10_000,
      keepaliveCountMax: this.#options.keepaliveCountMax ?? 3,
      algorithms: { serverHostKey: hostKeyAlgorithms(pinned) as never },
      hostVerifier: makeHostVerifier(pinned, (v) => {
        verdict = v;
      }),
      // Never fall back to an agent or keyboard-interactive: tend authenticates with its key only.
      tryKeyboard: false,
    });
    const client: Client | null = ssh.connection;
    if (client === null) throw new InternalError('node-ssh did not create its client synchronously');
    // Nagle's algorithm against the host's delayed ACKs held each command's small packets ~40 ms: a round
    // trip took 44 ms instead of 2 ms, and a host step makes several. Node applies it once connected.
    client.setNoDelay(true);

    const connection: Connection = {
      client,
      ssh,
      alive: true,
      destroy: () => client.destroy(),
    };
    client.on('error', (error: Error & { level?: string }) => {
      connection.alive = false;
      this.#log.warn({ host: host.name, level: error.level, err: error.message }, 'ssh connection error');
    });
    const dropped = (): void => {
      connection.alive = false;
      if (slot.connection === connection) slot.connection = undefined;
    };
    client.on('end', dropped);
    client.on('close', dropped);

    try {
      await connecting;
    } catch (error) {
      dropped();
      client.destroy();
      const classified = classifyConnectError(error, target, verdict, pinnedFingerprints);
      this.#log.warn({ host: host.name, code: classified.code }, 'ssh connect failed');
      if (REFUSAL_CODES.has(classified.code)) this.#refusals.set(host.name, { identity, error: classified });
      throw classified;
    }
    if (verdict?.kind !== 'accepted') {
      // Unreachable with a verifier set; kept so that no code path can ever run commands on an unverified host.
      client.destroy();
      throw new InternalError(`connected to ${host.name} without a host-key verdict`);
    }
    this.#log.debug({ host: host.name, hostKey: verdict.fingerprint }, 'ssh connected');
    return connection;
  }

  private async pinnedKeys(host: SshHost, target: ConnectTarget): Promise<PinnedKey[]> {
    if (host.hostKey.trim() !== '') {
      const parsed = parsePinnedKey(host.hostKey);
      if (parsed.ok) return [parsed.key];
      throw new TendError('E_HOSTKEY', 'conflict', `${host.name}: the pinned hostKey is unusable: ${parsed.reason}`, {
        where: { host: host.name },
        hint: 'Set hostKey in inventory.yml to the "ssh-ed25519 AAAA..." line of the host\'s public key.',
      });
    }
    const path = this.#options.knownHostsPath;
    const text =
      path === undefined
        ? ''
        : await readFile(path, 'utf8').catch((error: unknown) => {
            throw new TendError('E_HOSTKEY', 'conflict', `cannot read known_hosts file ${path}`, {
              where: { host: host.name },
              hint: 'Point the knownHosts option at a readable file, or pin hostKey in inventory.yml.',
              cause: error,
            });
          });
    const { keys } = keysFromKnownHosts(text, host.address, host.port);
    if (keys.length === 0) throw hostKeyError(target, undefined, []);
    return keys;
  }

  private privateKey(target: ConnectTarget): Promise<string> {
    if (this.#privateKey === undefined) {
      const path = this.#options.privateKeyPath;
      this.#privateKey = readFile(path, 'utf8');
      // A failed read is retried on the next connect (the file may appear), not cached.
      this.#privateKey.catch(() => {
        this.#privateKey = undefined;
      });
    }
    return this.#privateKey.catch((error: unknown) => {
      throw new TendError('E_SSH_KEY', 'conflict', `${target.host}: cannot read tend's SSH private key ${this.#options.privateKeyPath}`, {
        where: { host: target.host },
        hint: 'Point TEND_SSH_KEY (or the sshKey option) at a readable OpenSSH private key.',
        cause: error,
      });
    });
  }
}
