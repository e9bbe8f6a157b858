import { describe, expect, it } from 'vitest';
import { parseStageResult, type HostStageResult } from '../../../src/hosts/index.js';

/** What the stage script prints, for each way a host's download ends, as curl, GNU wget and busybox wget put it. */
describe('parseStageResult', () => {
  const cases: readonly { readonly name: string; readonly code: number; readonly stdout: string; readonly want: HostStageResult }[] = [
    { name: 'a staged release', code: 0, stdout: 'tend-stage staged\n', want: { ok: true, outcome: 'staged' } },
    { name: 'a release already there', code: 0, stdout: 'tend-stage present\n', want: { ok: true, outcome: 'present' } },
    { name: 'a hash mismatch names the hash the host computed', code: 65, stdout: `tend-stage corrupt sha256=${'e'.repeat(64)}\n`, want: { ok: false, failure: { kind: 'hash-mismatch', got: 'e'.repeat(64) } } },
    { name: 'curl: a 404', code: 67, stdout: 'tend-fetch failed tool=curl exit=22 http=404\ncurl: (22) The requested URL returned error: 404\n', want: { ok: false, failure: { kind: 'http', status: 404 } } },
    { name: 'curl: a 503', code: 67, stdout: 'tend-fetch failed tool=curl exit=22 http=503\ncurl: (22) The requested URL returned error: 503\n', want: { ok: false, failure: { kind: 'http', status: 503 } } },
    { name: 'curl: connection refused', code: 67, stdout: 'tend-fetch failed tool=curl exit=7 http=000\ncurl: (7) Failed to connect to 10.78.0.1 port 8000: Connection refused\n', want: { ok: false, failure: { kind: 'unreachable', reason: 'curl: (7) Failed to connect to 10.78.0.1 port 8000: Connection refused' } } },
    { name: 'curl: a timeout', code: 67, stdout: 'tend-fetch failed tool=curl exit=28 http=000\ncurl: (28) Operation too slow\n', want: { ok: false, failure: { kind: 'timeout', reason: 'curl: (28) Operation too slow' } } },
    { name: 'curl: a certificate it cannot verify', code: 67, stdout: 'tend-fetch failed tool=curl exit=60 http=000\ncurl: (60) SSL certificate problem: self-signed certificate\n', want: { ok: false, failure: { kind: 'tls', reason: 'curl: (60) SSL certificate problem: self-signed certificate' } } },
    { name: 'GNU wget: a 404', code: 67, stdout: 'tend-fetch failed tool=gnu-wget exit=8 http=000\nhttp://10.78.0.1:8000/x:\n2026-12-03 14:00:00 ERROR 404: Not Found.\n', want: { ok: false, failure: { kind: 'http', status: 404 } } },
    { name: 'GNU wget: refused credentials', code: 67, stdout: 'tend-fetch failed tool=gnu-wget exit=6 http=000\nUsername/Password Authentication Failed.\n', want: { ok: false, failure: { kind: 'http', status: 401 } } },
    { name: 'GNU wget: connection refused', code: 67, stdout: 'tend-fetch failed tool=gnu-wget exit=4 http=000\nfailed: Connection refused.\n', want: { ok: false, failure: { kind: 'unreachable', reason: 'failed: Connection refused.' } } },
    { name: 'busybox wget: a 404', code: 67, stdout: 'tend-fetch failed tool=busybox-wget exit=1 http=000\nwget: server returned error: HTTP/1.1 404 Not Found\n', want: { ok: false, failure: { kind: 'http', status: 404 } } },
    { name: 'busybox wget: connection refused', code: 67, stdout: 'tend-fetch failed tool=busybox-wget exit=1 http=000\nwget: can\'t connect to remote host (10.78.0.1): Connection refused\n', want: { ok: false, failure: { kind: 'unreachable', reason: 'wget: can\'t connect to remote host (10.78.0.1): Connection refused' } } },
    { name: 'busybox wget: a timeout', code: 67, stdout: 'tend-fetch failed tool=busybox-wget exit=1 http=000\nwget: download timed out\n', want: { ok: false, failure: { kind: 'timeout', reason: 'wget: download timed out' } } },
    { name: 'no tool for the job', code: 69, stdout: 'tend-fetch missing-tool neither curl nor wget is installed on the host\n', want: { ok: false, failure: { kind: 'missing-tool', reason: 'neither curl nor wget is installed on the host' } } },
    { name: 'a tarball that does not unpack', code: 68, stdout: 'tend-stage unpack\ngzip: stdin: not in gzip format\ntar: Child returned status 1\n', want: { ok: false, failure: { kind: 'unpack', reason: 'gzip: stdin: not in gzip format; tar: Child returned status 1' } } },
    { name: 'run.file not in the tarball', code: 70, stdout: 'tend-stage file-missing\n', want: { ok: false, failure: { kind: 'file-missing', file: 'bin/api' } } },
  ];
  for (const one of cases) {
    it(one.name, () => {
      expect(parseStageResult({ code: one.code, stdout: one.stdout, stderr: '' }, 'bin/api')).toEqual(one.want);
    });
  }

  it('never takes a line it does not know for a verdict about the store: unreachable, not a 404', () => {
    const result = parseStageResult({ code: 67, stdout: 'tend-fetch failed tool=curl exit=22 http=404 extra\n', stderr: '' }, 'api');
    expect(result).toMatchObject({ ok: false, failure: { kind: 'unreachable' } });
  });

  it('keeps control characters a host printed out of the reason', () => {
    const result = parseStageResult({ code: 67, stdout: 'tend-fetch failed tool=curl exit=7 http=000\n\u001b[31mred\u001b[0m\n', stderr: '' }, 'api');
    expect(result).toEqual({ ok: false, failure: { kind: 'unreachable', reason: '?[31mred?[0m' } });
  });
});
