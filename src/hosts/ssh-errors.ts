import { TendError } from '../errors/index.js';
import type { HostKeyVerdict } from './host-key.js';

/**
 * Classification of what ssh2 throws into tend's taxonomy, at the edge where it happens. ssh2 tags its
 * errors with `level` (`client-socket`, `client-timeout`, `client-dns`, `client-authentication`,
 * `handshake`, `protocol`, `agent`) and socket errors with a Node `code` (ECONNREFUSED, ...): those fields
 * are what is matched, never translated messages. The library error is always kept as `cause`.
 */

/** The shape of an ssh2 / node-ssh error as far as classification reads it. */
export interface SshErrorShape {
  readonly message: string;
  readonly level?: string;
  readonly code?: string;
}

export function sshErrorShape(error: unknown): SshErrorShape {
  if (typeof error !== 'object' || error === null) return { message: String(error) };
  const record = error as Record<string, unknown>;
  const message = typeof record['message'] === 'string' ? record['message'] : String(error);
  const shape: { message: string; level?: string; code?: string } = { message };
  if (typeof record['level'] === 'string') shape.level = record['level'];
  if (typeof record['code'] === 'string') shape.code = record['code'];
  return shape;
}

export interface ConnectTarget {
  /** Inventory name of the host. */
  readonly host: string;
  readonly address: string;
  readonly port: number;
  readonly user: string;
}

const UNREACHABLE_HINT =
  'tend retries with backoff. Check that the host is up, that sshd listens on the address and port in ' +
  'inventory.yml, and that no firewall drops the connection.';

function target(t: ConnectTarget): string {
  return `${t.host} (${t.user}@${t.address}:${t.port})`;
}

export function hostKeyError(
  t: ConnectTarget,
  verdict: Extract<HostKeyVerdict, { kind: 'refused' }> | undefined,
  pinnedFingerprints: readonly string[],
  cause?: unknown,
): TendError {
  const presented =
    verdict === undefined ? 'a host key' : `host key ${verdict.presentedFingerprint} (${verdict.presentedType})`;
  const pinned = pinnedFingerprints.length === 0 ? 'no pinned key' : `the pinned ${pinnedFingerprints.join(', ')}`;
  return new TendError(
    'E_HOSTKEY',
    'conflict',
    `${target(t)} presented ${presented}, which does not match ${pinned}; refusing to connect, nothing was run`,
    {
      where: { host: t.host },
      hint:
        'The host may have been reinstalled, or someone is impersonating it. Verify the key out of band (on the ' +
        'host: `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`, from a trusted network: `ssh-keyscan -t ' +
        `ed25519 -p ${t.port} ${t.address}\`), then set hostKey of ${t.host} in inventory.yml to the ` +
        '"ssh-ed25519 AAAA..." line and commit. tend will not retry until then.',
      cause,
    },
  );
}

/**
 * Connect-time failure -> TendError. `verdict` is what our host verifier decided, when it ran: a refusal
 * there is the authoritative reason, whatever ssh2 made of it afterwards.
 */
export function classifyConnectError(
  error: unknown,
  t: ConnectTarget,
  verdict: HostKeyVerdict | undefined,
  pinnedFingerprints: readonly string[],
): TendError {
  if (error instanceof TendError) return error;
  if (verdict?.kind === 'refused') return hostKeyError(t, verdict, pinnedFingerprints, error);
  const shape = sshErrorShape(error);
  const where = { host: t.host };
  switch (shape.level) {
    case 'client-authentication':
    case 'agent':
      return new TendError('E_SSH_AUTH', 'conflict', `${target(t)} refused tend's key: ${shape.message}`, {
        where,
        hint:
          `Add tend's public key to ~${t.user}/.ssh/authorized_keys on the host, or fix user in inventory.yml ` +
          'or the key tend uses (TEND_SSH_KEY), then `tend retry`. A refused key is not tried again until then or a new commit.',
        cause: error,
      });
    case 'handshake':
      // The server could not prove it holds the key we pin, or offers no key of the pinned type: to us that
      // is the same as a changed key.
      if (/host key|signature verification|host denied/i.test(shape.message)) {
        return hostKeyError(t, undefined, pinnedFingerprints, error);
      }
      return new TendError('E_SSH_HANDSHAKE', 'conflict', `${target(t)}: SSH handshake failed: ${shape.message}`, {
        where,
        hint: 'tend and the host share no key-exchange, cipher or MAC algorithm; check the sshd configuration.',
        cause: error,
      });
    case 'client-socket':
    case 'client-timeout':
    case 'client-dns':
    case 'protocol':
      return unreachable(t, describeNetworkError(shape), error);
    default:
      break;
  }
  if (shape.code === 'ENOENT' || shape.code === 'EACCES' || /privateKey|private key/i.test(shape.message)) {
    return new TendError('E_SSH_KEY', 'conflict', `${target(t)}: cannot use tend's SSH private key: ${shape.message}`, {
      where,
      hint: 'Point TEND_SSH_KEY (or the sshKey option) at a readable, unencrypted OpenSSH private key.',
      cause: error,
    });
  }
  // node-ssh reports a connection that closed before it was ready as ETIMEDOUT "No response from server";
  // anything else unrecognised is treated as the network's fault: retried, then surfaced, never a revert.
  return unreachable(t, describeNetworkError(shape), error);
}

function describeNetworkError(shape: SshErrorShape): string {
  switch (shape.code) {
    case 'ECONNREFUSED':
      return 'connection refused (is sshd running on that port?)';
    case 'ETIMEDOUT':
      return `timed out (${shape.message})`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'no route to host';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'connection reset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'address does not resolve';
    default:
      return shape.level === 'client-timeout' ? `timed out (${shape.message})` : shape.message;
  }
}

export function unreachable(t: ConnectTarget, detail: string, cause?: unknown): TendError {
  return new TendError('E_HOST_UNREACHABLE', 'transient', `${target(t)} is unreachable: ${detail}`, {
    where: { host: t.host },
    hint: UNREACHABLE_HINT,
    cause,
  });
}
