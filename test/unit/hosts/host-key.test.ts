import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  hostKeyAlgorithms,
  keyFingerprint,
  keySha256Hex,
  keysFromKnownHosts,
  makeHostVerifier,
  parsePinnedKey,
  type HostKeyVerdict,
} from '../../../src/hosts/host-key.js';

const dir = mkdtempSync(join(tmpdir(), 'tend-hostkey-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function generate(name: string): { line: string; fingerprint: string } {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'comment', '-f', path]);
  const line = readFileSync(`${path}.pub`, 'utf8').trim();
  const fingerprint = execFileSync('ssh-keygen', ['-lf', `${path}.pub`]).toString().split(' ')[1] ?? '';
  return { line, fingerprint };
}

const one = generate('one');
const two = generate('two');

function pinned(line: string) {
  const parsed = parsePinnedKey(line);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.key;
}

describe('parsePinnedKey', () => {
  it('reads "type base64 comment" and computes the fingerprint ssh-keygen shows', () => {
    const key = pinned(one.line);
    expect(key.type).toBe('ssh-ed25519');
    expect(keyFingerprint(key.blob)).toBe(one.fingerprint);
    expect(keySha256Hex(key.blob)).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    ['no blob', 'ssh-ed25519'],
    ['not base64', 'ssh-ed25519 AAAA$$$$'],
    ['a blob of another type', `ssh-rsa ${one.line.split(' ')[1] ?? ''}`],
    ['garbage', 'hello world'],
  ])('refuses %s', (_name, text) => {
    expect(parsePinnedKey(text).ok).toBe(false);
  });
});

describe('makeHostVerifier', () => {
  it('accepts exactly the pinned key and records what it saw', () => {
    const verdicts: HostKeyVerdict[] = [];
    const verify = makeHostVerifier([pinned(one.line)], (v) => verdicts.push(v));
    expect(verify(pinned(one.line).blob)).toBe(true);
    expect(verify(pinned(two.line).blob)).toBe(false);
    expect(verdicts).toEqual([
      { kind: 'accepted', fingerprint: one.fingerprint },
      { kind: 'refused', presentedType: 'ssh-ed25519', presentedFingerprint: two.fingerprint },
    ]);
  });

  it('refuses everything when nothing is pinned', () => {
    expect(makeHostVerifier([], () => undefined)(pinned(one.line).blob)).toBe(false);
  });
});

describe('hostKeyAlgorithms', () => {
  it('offers only the pinned key types, with the RSA signature variants for an RSA key', () => {
    expect(hostKeyAlgorithms([pinned(one.line)])).toEqual(['ssh-ed25519']);
    expect(hostKeyAlgorithms([{ type: 'ssh-rsa', blob: Buffer.alloc(0) }])).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
  });
});

describe('keysFromKnownHosts', () => {
  const [type1, data1] = one.line.split(' ');
  const [type2, data2] = two.line.split(' ');

  it('finds plain, [host]:port and wildcard entries, and skips other hosts', () => {
    const text = [
      '# comment',
      `10.0.0.1 ${type1} ${data1}`,
      `[10.0.0.1]:2222 ${type2} ${data2}`,
      `10.0.0.* ${type2} ${data2}`,
      `other.example ${type1} ${data1}`,
    ].join('\n');
    expect(keysFromKnownHosts(text, '10.0.0.1', 22).keys.map((k) => keyFingerprint(k.blob))).toEqual([one.fingerprint, two.fingerprint]);
    expect(keysFromKnownHosts(text, '10.0.0.1', 2222).keys.map((k) => keyFingerprint(k.blob))).toEqual([two.fingerprint]);
    expect(keysFromKnownHosts(text, '10.0.0.9', 2222).keys).toEqual([]);
  });

  it('matches entries hashed by ssh-keygen -H', () => {
    const path = join(dir, 'known_hosts');
    writeFileSync(path, `[10.0.0.1]:2222 ${type1} ${data1}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', path], { stdio: 'ignore' });
    const text = readFileSync(path, 'utf8');
    expect(text).toMatch(/^\|1\|/);
    expect(keysFromKnownHosts(text, '10.0.0.1', 2222).keys).toHaveLength(1);
    expect(keysFromKnownHosts(text, '10.0.0.2', 2222).keys).toHaveLength(0);
  });

  it('honours negation and never returns a @revoked key', () => {
    const text = [`10.0.0.*,!10.0.0.1 ${type1} ${data1}`, `10.0.0.2 ${type2} ${data2}`, `@revoked * ${type2} ${data2}`].join('\n');
    expect(keysFromKnownHosts(text, '10.0.0.1', 22).keys).toEqual([]);
    const forTwo = keysFromKnownHosts(text, '10.0.0.2', 22);
    expect(forTwo.keys.map((k) => keyFingerprint(k.blob))).toEqual([one.fingerprint]);
    expect(forTwo.revoked).toHaveLength(1);
  });
});
