import { SshPool, type SshLogger } from './ssh-pool.js';

export interface FleetOptions {
  /** tend's private key (OpenSSH format, unencrypted). */
  readonly privateKeyPath: string;
  /** Pins for hosts whose inventory entry has no host_key. */
  readonly knownHostsPath?: string;
  /** Hosts worked on at once: tend.yml `concurrency`. A daemon follows each commit's with `setConcurrency`. */
  readonly concurrency: number;
  /** Connection errors and connects; the CLI leaves it out because it reports the same errors itself. */
  readonly logger?: SshLogger;
}

/**
 * A dead host must be noticed within half a minute, not at the kernel's TCP timeout (hours): a rollout
 * waiting on a command there would otherwise hang, and the host be reported late as unreachable.
 */
const KEEPALIVE_INTERVAL_MS = 10_000;
const KEEPALIVE_COUNT_MAX = 3;

/** The one way tend opens its SSH connections to the fleet, for the CLI and the daemon alike. */
export function openFleet(options: FleetOptions): SshPool {
  return new SshPool({
    privateKeyPath: options.privateKeyPath,
    ...(options.knownHostsPath === undefined ? {} : { knownHostsPath: options.knownHostsPath }),
    maxConcurrentHosts: options.concurrency,
    keepaliveIntervalMs: KEEPALIVE_INTERVAL_MS,
    keepaliveCountMax: KEEPALIVE_COUNT_MAX,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
}
