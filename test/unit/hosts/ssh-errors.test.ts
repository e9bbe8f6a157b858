import { describe, expect, it } from 'vitest';
import { classifyConnectError } from '../../../src/hosts/ssh-errors.js';

const target = { host: 'web-1', address: '10.0.0.5', port: 22, user: 'deploy' };

/** ssh2 errors as they arrive, with the fields ssh2 sets (captured from ssh2 1.17 against OpenSSH 9.2). */
function ssh2Error(message: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(message), fields);
}

describe('classifyConnectError', () => {
  it.each([
    ['connection refused', ssh2Error('connect ECONNREFUSED 10.0.0.5:22', { level: 'client-socket', code: 'ECONNREFUSED', errno: -111, syscall: 'connect' }), 'E_HOST_UNREACHABLE', 'transient'],
    ['no route', ssh2Error('connect EHOSTUNREACH 10.0.0.5:22', { level: 'client-socket', code: 'EHOSTUNREACH' }), 'E_HOST_UNREACHABLE', 'transient'],
    ['reset', ssh2Error('read ECONNRESET', { level: 'client-socket', code: 'ECONNRESET' }), 'E_HOST_UNREACHABLE', 'transient'],
    ['handshake timeout', ssh2Error('Timed out while waiting for handshake', { level: 'client-timeout' }), 'E_HOST_UNREACHABLE', 'transient'],
    ['keepalive timeout', ssh2Error('Keepalive timeout', { level: 'client-timeout' }), 'E_HOST_UNREACHABLE', 'transient'],
    ['closed before ready (node-ssh)', Object.assign(new Error('No response from server'), { code: 'ETIMEDOUT' }), 'E_HOST_UNREACHABLE', 'transient'],
    ['DNS failure', ssh2Error('getaddrinfo ENOTFOUND web-1.invalid', { level: 'client-socket', code: 'ENOTFOUND' }), 'E_HOST_UNREACHABLE', 'transient'],
    ['key refused', ssh2Error('All configured authentication methods failed', { level: 'client-authentication' }), 'E_SSH_AUTH', 'conflict'],
    ['host key denied by the verifier', ssh2Error('Host denied (verification failed)', { level: 'handshake' }), 'E_HOSTKEY', 'conflict'],
    ['no pinned host key type offered', ssh2Error('Handshake failed: no matching host key format', { level: 'handshake' }), 'E_HOSTKEY', 'conflict'],
    ['no common cipher', ssh2Error('Handshake failed: no matching cipher', { level: 'handshake' }), 'E_SSH_HANDSHAKE', 'conflict'],
    ['an unreadable private key', Object.assign(new Error("ENOENT: no such file or directory, open '/nope'"), { code: 'ENOENT' }), 'E_SSH_KEY', 'conflict'],
    ['an unparsable private key', new Error('Cannot parse privateKey: Unsupported key format'), 'E_SSH_KEY', 'conflict'],
  ])('classifies %s', (_name, error, code, errorClass) => {
    const classified = classifyConnectError(error, target, undefined, []);
    expect(classified.code).toBe(code);
    expect(classified.errorClass).toBe(errorClass);
    expect(classified.cause).toBe(error);
    expect(classified.where).toEqual({ host: 'web-1' });
    expect(classified.message).toContain('web-1');
    expect(classified.hint).toBeTruthy();
  });

  it("trusts the verifier's refusal over ssh2's wording, and names both keys", () => {
    const classified = classifyConnectError(
      ssh2Error('whatever ssh2 says', { level: 'protocol' }),
      target,
      { kind: 'refused', presentedType: 'ssh-ed25519', presentedFingerprint: 'SHA256:presented' },
      ['SHA256:pinned'],
    );
    expect(classified.code).toBe('E_HOSTKEY');
    expect(classified.message).toContain('SHA256:presented');
    expect(classified.message).toContain('SHA256:pinned');
    expect(classified.hint).toContain('inventory.yml');
    expect(classified.retryable).toBe(false);
  });
});
