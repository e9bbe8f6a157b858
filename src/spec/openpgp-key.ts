/**
 * Just enough OpenPGP to take a signing key as people commit it (binary from `gpg --export`, or armored
 * from `gpg --armor --export`) and hand apt the binary keyring its Signed-By= reads, refusing what is
 * not a public key. Armor is RFC 4880 §6.2; the first packet's tag tells a public key (6) from the rest.
 */

export type KeyReading =
  | { readonly ok: true; readonly keyring: Uint8Array }
  | { readonly ok: false; readonly reason: string };

const PUBLIC_KEY_TAG = 6;
const SECRET_KEY_TAG = 5;

export function readOpenPgpPublicKey(bytes: Uint8Array): KeyReading {
  const text = Buffer.from(bytes).toString('latin1');
  if (text.includes('-----BEGIN PGP PRIVATE KEY BLOCK-----')) {
    return { ok: false, reason: 'is a private key; commit only the public key (`gpg --export KEYID`), and replace this key: it has been shared' };
  }
  const armored = /-----BEGIN PGP PUBLIC KEY BLOCK-----\r?\n([\s\S]*?)-----END PGP PUBLIC KEY BLOCK-----/.exec(text);
  const binary = armored === null ? bytes : dearmor(armored[1] ?? '');
  if (binary === undefined) return { ok: false, reason: 'has an armored block whose body is not base64' };
  const tag = firstPacketTag(binary);
  if (tag === SECRET_KEY_TAG) {
    return { ok: false, reason: 'is a private key; commit only the public key (`gpg --export KEYID`), and replace this key: it has been shared' };
  }
  if (tag !== PUBLIC_KEY_TAG) return { ok: false, reason: 'is not an OpenPGP public key (binary or armored)' };
  return { ok: true, keyring: binary };
}

/** The body of an armored block: optional `Key: value` headers, a blank line, base64, an optional `=CRC` line. */
function dearmor(body: string): Uint8Array | undefined {
  const lines = body.split(/\r?\n/).map((line) => line.trim());
  const blank = lines.indexOf('');
  const hasHeaders = blank > 0 && lines.slice(0, blank).every((line) => /^[A-Za-z-]+: /.test(line));
  const data = (hasHeaders ? lines.slice(blank + 1) : lines).filter((line) => line !== '' && !line.startsWith('='));
  const base64 = data.join('');
  if (base64 === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return undefined;
  return new Uint8Array(Buffer.from(base64, 'base64'));
}

/** The tag of the first packet: new format (bit 6 set) keeps it in the low six bits, old format in bits 2–5. */
function firstPacketTag(bytes: Uint8Array): number | undefined {
  const first = bytes[0];
  if (first === undefined || (first & 0x80) === 0) return undefined;
  return (first & 0x40) !== 0 ? first & 0x3f : (first >> 2) & 0x0f;
}
