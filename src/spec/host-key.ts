/**
 * The `host_key` of an inventory host: `type base64 [comment]`, as `ssh-keyscan` and *.pub files print it.
 * The schema checks the outline; this checks the blob itself, so a truncated paste or a key filed under the
 * wrong type fails at validate time rather than as a "changed host key" page during a rollout.
 */

export type HostKeyResult = { readonly ok: true; readonly hostKey: string } | { readonly ok: false; readonly message: string };

/** Length-prefixed fields of an SSH wire-format blob, or undefined when it does not split cleanly. */
function wireFields(blob: Buffer): Buffer[] | undefined {
  const fields: Buffer[] = [];
  let offset = 0;
  while (offset < blob.length) {
    if (offset + 4 > blob.length) return undefined;
    const length = blob.readUInt32BE(offset);
    offset += 4;
    if (offset + length > blob.length) return undefined;
    fields.push(blob.subarray(offset, offset + length));
    offset += length;
  }
  return fields;
}

function checkBlob(type: string, blob: Buffer): string | undefined {
  const fields = wireFields(blob);
  if (fields === undefined || fields.length === 0) return 'the key data is truncated or not an SSH public key';
  const inner = fields[0]?.toString('latin1');
  if (inner !== type) return `the key data is of type ${inner ?? 'unknown'}, not ${type}`;
  if (type === 'ssh-ed25519') {
    return fields.length === 2 && fields[1]?.length === 32 ? undefined : 'an ssh-ed25519 key has exactly 32 bytes of key data';
  }
  if (type.startsWith('ecdsa-sha2-')) {
    const curve = type.slice('ecdsa-sha2-'.length);
    if (fields.length !== 3 || fields[1]?.toString('latin1') !== curve) return `an ${type} key names the curve ${curve} and carries one point`;
    return undefined;
  }
  // ssh-rsa: exponent and modulus; OpenSSH refuses moduli under 1024 bits.
  if (fields.length !== 3) return 'an ssh-rsa key has an exponent and a modulus';
  return (fields[2]?.length ?? 0) >= 128 ? undefined : 'the ssh-rsa modulus is shorter than 1024 bits';
}

/** Checks a host key and returns it as `type base64`, the comment dropped. */
export function normalizeHostKey(text: string): HostKeyResult {
  const [type = '', data = ''] = text.trim().split(/\s+/);
  if (data.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(data)) {
    return { ok: false, message: 'the key data is not valid base64 (is the paste cut short?)' };
  }
  const blob = Buffer.from(data, 'base64');
  // Node's decoder skips garbage silently; re-encoding proves every character was meaningful.
  if (blob.toString('base64') !== data) return { ok: false, message: 'the key data is not canonical base64' };
  const problem = checkBlob(type, blob);
  return problem === undefined ? { ok: true, hostKey: `${type} ${data}` } : { ok: false, message: problem };
}
