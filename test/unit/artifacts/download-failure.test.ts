import { describe, expect, it } from 'vitest';
import { classifyDownloadFailure, downloadFailureError, fetchErrorFailure, type DownloadFailure } from '../../../src/artifacts/index.js';
import { ERROR_CODES } from '../../../src/errors/index.js';

describe('classifyDownloadFailure', () => {
  const cases: readonly { readonly name: string; readonly failure: DownloadFailure; readonly code: string; readonly errorClass: string }[] = [
    { name: 'a 404 says the commit names a build that is not there: change', failure: { kind: 'http', status: 404 }, code: 'E_ARTIFACT_NOT_FOUND', errorClass: 'change' },
    { name: 'a 410 (gone) is the same as a 404', failure: { kind: 'http', status: 410 }, code: 'E_ARTIFACT_NOT_FOUND', errorClass: 'change' },
    { name: 'other bytes than run.sha256 pins: change', failure: { kind: 'hash-mismatch', got: 'a'.repeat(64) }, code: 'E_ARTIFACT_HASH_MISMATCH', errorClass: 'change' },
    { name: 'a 400 refuses the URL as committed: change', failure: { kind: 'http', status: 400 }, code: 'E_ARTIFACT_REQUEST_REFUSED', errorClass: 'change' },
    { name: 'a tarball that does not unpack: change', failure: { kind: 'unpack', reason: 'gzip: not in gzip format' }, code: 'E_ARTIFACT_UNPACK', errorClass: 'change' },
    { name: 'run.file missing from the tarball: change', failure: { kind: 'file-missing', file: 'bin/api' }, code: 'E_ARTIFACT_UNPACK', errorClass: 'change' },
    { name: 'a 500 is the store\'s trouble: transient', failure: { kind: 'http', status: 500 }, code: 'E_ARTIFACT_STORE_UNAVAILABLE', errorClass: 'transient' },
    { name: 'a 503 is transient', failure: { kind: 'http', status: 503 }, code: 'E_ARTIFACT_STORE_UNAVAILABLE', errorClass: 'transient' },
    { name: 'a 429 (rate limited) is transient', failure: { kind: 'http', status: 429 }, code: 'E_ARTIFACT_STORE_UNAVAILABLE', errorClass: 'transient' },
    { name: 'a 408 (request timeout) is transient', failure: { kind: 'http', status: 408 }, code: 'E_ARTIFACT_STORE_UNAVAILABLE', errorClass: 'transient' },
    { name: 'a refused connection is transient', failure: { kind: 'unreachable', reason: 'Connection refused' }, code: 'E_ARTIFACT_STORE_UNAVAILABLE', errorClass: 'transient' },
    { name: 'a timeout is transient', failure: { kind: 'timeout', reason: 'download timed out' }, code: 'E_ARTIFACT_STORE_UNAVAILABLE', errorClass: 'transient' },
    { name: 'a 401 waits for a person to fix the credentials: conflict', failure: { kind: 'http', status: 401 }, code: 'E_ARTIFACT_STORE_AUTH', errorClass: 'conflict' },
    { name: 'a 403 is refused credentials too', failure: { kind: 'http', status: 403 }, code: 'E_ARTIFACT_STORE_AUTH', errorClass: 'conflict' },
    { name: 'a refused certificate: conflict', failure: { kind: 'tls', reason: 'CERT_HAS_EXPIRED' }, code: 'E_ARTIFACT_STORE_TLS', errorClass: 'conflict' },
    { name: 'no curl or wget on the host: conflict', failure: { kind: 'missing-tool', reason: 'neither curl nor wget' }, code: 'E_ARTIFACT_HOST_TOOL', errorClass: 'conflict' },
  ];
  for (const one of cases) {
    it(one.name, () => {
      expect(classifyDownloadFailure(one.failure)).toEqual({ code: one.code, errorClass: one.errorClass });
      // The registry agrees with the table: status, docs and metrics show the same class.
      expect(ERROR_CODES[one.code as keyof typeof ERROR_CODES].errorClass).toBe(one.errorClass);
    });
  }

  it('names the host, the service and the URL, and says nothing running was touched', () => {
    const error = downloadFailureError({ kind: 'http', status: 404 }, { service: 'api', url: 'https://store.example.com/api-2', sha256: 'b'.repeat(64), where: { host: 'web-1', command: 'fetch https://store.example.com/api-2' } });
    expect(error.message).toBe('web-1: api from https://store.example.com/api-2: the store answered HTTP 404; nothing running was touched');
    expect(error.where).toEqual({ host: 'web-1', command: 'fetch https://store.example.com/api-2' });
  });
});

describe('fetchErrorFailure (what Node\'s fetch throws, for fetch: tend)', () => {
  const failed = (code: string): Error => Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(`connect ${code}`), { code }) });
  const cases: readonly { readonly name: string; readonly error: unknown; readonly kind: DownloadFailure['kind'] }[] = [
    { name: 'a refused connection is unreachable', error: failed('ECONNREFUSED'), kind: 'unreachable' },
    { name: 'an unknown name is unreachable', error: failed('ENOTFOUND'), kind: 'unreachable' },
    { name: 'a reset is unreachable', error: failed('ECONNRESET'), kind: 'unreachable' },
    { name: 'the download timeout is a timeout', error: Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' }), kind: 'timeout' },
    { name: 'undici\'s connect timeout is a timeout', error: failed('UND_ERR_CONNECT_TIMEOUT'), kind: 'timeout' },
    { name: 'an expired certificate is tls', error: failed('CERT_HAS_EXPIRED'), kind: 'tls' },
    { name: 'a self-signed certificate is tls', error: failed('DEPTH_ZERO_SELF_SIGNED_CERT'), kind: 'tls' },
  ];
  for (const one of cases) {
    it(one.name, () => {
      expect(fetchErrorFailure(one.error).kind).toBe(one.kind);
    });
  }
});
