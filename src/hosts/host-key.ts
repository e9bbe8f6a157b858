import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Host-key pinning. ssh2 accepts ANY host key unless a `hostVerifier` is set, so every connection tend opens
 * carries one built here, and a key that is not pinned is refused before authentication: no command runs
 * on a host that might be an impostor.
 */

/** A public host key as the inventory (or known_hosts) pins it. */
export interface PinnedKey {
  /** `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`, ... */
  readonly type: string;
  /** The wire-format key blob (what ssh2 hands the verifier, and what known_hosts base64-encodes). */
  readonly blob: Buffer;
}

export type PinnedKeyParse = { readonly ok: true; readonly key: PinnedKey } | { readonly ok: false; readonly reason: string };

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Reads `type base64 [comment]`. The blob must decode and name the same type it is filed under. */
export function parsePinnedKey(text: string): PinnedKeyParse {
  const [type, data] = text.trim().split(/\s+/);
  if (type === undefined || type === '' || data === undefined) {
    return { ok: false, reason: 'expected "<type> <base64 key>", e.g. "ssh-ed25519 AAAA..."' };
  }
  if (!BASE64.test(data) || data.length % 4 !== 0) return { ok: false, reason: 'the key is not valid base64' };
  const blob = Buffer.from(data, 'base64');
  const innerType = blobKeyType(blob);
  if (innerType !== type) {
    return { ok: false, reason: `the key blob is of type ${innerType ?? 'unknown'}, not ${type}` };
  }
  return { ok: true, key: { type, blob } };
}

/** The type string every SSH public key blob starts with (uint32 length + name). */
export function blobKeyType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > 64 || blob.length < 4 + length) return undefined;
  return blob.subarray(4, 4 + length).toString('latin1');
}

/** Lowercase hex sha256 of the blob: what ssh2's `hostHash: 'sha256'` would hand a verifier. */
export function keySha256Hex(blob: Buffer): string {
  return createHash('sha256').update(blob).digest('hex');
}

/** `SHA256:...` as `ssh-keygen -lf` and OpenSSH's own warnings print it, so people can compare by eye. */
export function keyFingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/**
 * Host-key algorithms to offer so the server presents a key of a pinned type: a server with several keys
 * picks by the client's preference, and without this it could present (say) its ECDSA key while the
 * inventory pins its Ed25519 one, which would look like a changed key.
 */
export function hostKeyAlgorithms(keys: readonly PinnedKey[]): string[] {
  const algorithms = new Set<string>();
  for (const key of keys) {
    if (key.type === 'ssh-rsa') {
      for (const algorithm of ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']) algorithms.add(algorithm);
    } else {
      algorithms.add(key.type);
    }
  }
  return [...algorithms];
}

/** What the verifier saw, kept so the connection error can say exactly why it refused. */
export type HostKeyVerdict =
  | { readonly kind: 'accepted'; readonly fingerprint: string }
  | { readonly kind: 'refused'; readonly presentedType: string; readonly presentedFingerprint: string };

/**
 * A verifier for ssh2's `hostVerifier` (without `hostHash`, so it sees the raw blob and can name the
 * presented key's type and fingerprint in the error; its sha256 is compared exactly as `hostHash` would).
 * The comparison is constant-time out of habit; the keys are public.
 */
export function makeHostVerifier(
  pinned: readonly PinnedKey[],
  onVerdict: (verdict: HostKeyVerdict) => void,
): (key: Buffer) => boolean {
  const expected = pinned.map((key) => createHash('sha256').update(key.blob).digest());
  return (key: Buffer) => {
    const presented = createHash('sha256').update(key).digest();
    const accepted = expected.some((digest) => timingSafeEqual(digest, presented));
    onVerdict(
      accepted
        ? { kind: 'accepted', fingerprint: keyFingerprint(key) }
        : { kind: 'refused', presentedType: blobKeyType(key) ?? 'unknown', presentedFingerprint: keyFingerprint(key) },
    );
    return accepted;
  };
}

/**
 * The keys a known_hosts file pins for `address:port`: plain names, `[name]:port`, hashed `|1|salt|hash`
 * entries and `*`/`?` patterns with `!` negation, as OpenSSH matches them. `@cert-authority` lines are
 * skipped (tend pins keys, not CAs); a `@revoked` key is returned separately so it can never be accepted.
 */
export function keysFromKnownHosts(
  text: string,
  address: string,
  port: number,
): { readonly keys: PinnedKey[]; readonly revoked: PinnedKey[] } {
  const keys: PinnedKey[] = [];
  const revoked: PinnedKey[] = [];
  const name = port === 22 ? address : `[${address}]:${port}`;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    let fields = line.split(/\s+/);
    let marker: string | undefined;
    if (fields[0]?.startsWith('@') === true) {
      marker = fields[0];
      fields = fields.slice(1);
    }
    const [hosts, type, data] = fields;
    if (hosts === undefined || type === undefined || data === undefined) continue;
    if (marker === '@cert-authority' || !knownHostsFieldMatches(hosts, name)) continue;
    const parsed = parsePinnedKey(`${type} ${data}`);
    if (!parsed.ok) continue;
    (marker === '@revoked' ? revoked : keys).push(parsed.key);
  }
  const isRevoked = (key: PinnedKey): boolean => revoked.some((r) => r.blob.equals(key.blob));
  return { keys: keys.filter((key) => !isRevoked(key)), revoked };
}

function knownHostsFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (salt === undefined || hash === undefined) return false;
    const digest = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return digest === hash;
  }
  let matched = false;
  for (const pattern of field.split(',')) {
    const negated = pattern.startsWith('!');
    if (!globMatches(negated ? pattern.slice(1) : pattern, name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

function globMatches(pattern: string, name: string): boolean {
  const source = pattern
    .toLowerCase()
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${source}$`).test(name.toLowerCase());
}
