import { describe, expect, it } from 'vitest';
import { describeProbe } from '../../../src/rollback/index.js';
import type { ProbeResult } from '../../../src/rollout/index.js';

/**
 * Probe results as src/hosts/probes.ts makes them (an http, tcp or exec probe, each way it can end), and the
 * `Tend-Probe` trailer value each becomes.
 */
const cases: ReadonlyArray<readonly [name: string, probe: ProbeResult, trailer: string]> = [
  ['an http probe answered 500', { ok: false, status: 500, latencyMs: 12.4, error: 'status 500, expected 2xx' }, 'HTTP 500 after 12 ms'],
  ['an http probe answered other than the expected status', { ok: false, status: 200, latencyMs: 8, error: 'status 200, expected 204' }, 'HTTP 200 (expected 204) after 8 ms'],
  ['an http body without the expected text', { ok: false, status: 200, latencyMs: 9.6, error: 'body does not contain "ready"' }, 'HTTP 200 without "ready" in the body after 10 ms'],
  ['an http connection refused', { ok: false, latencyMs: 3.2, error: 'ECONNREFUSED: connect ECONNREFUSED 10.0.0.5:8080' }, 'connection refused after 3 ms'],
  ['an http connection reset', { ok: false, latencyMs: 40, error: 'ECONNRESET: read ECONNRESET' }, 'connection reset after 40 ms'],
  ['an http server that closed the socket', { ok: false, latencyMs: 5, error: 'UND_ERR_SOCKET: other side closed' }, 'connection closed after 5 ms'],
  ['an http probe with no answer in time', { ok: false, latencyMs: 2001.7, error: 'no response within 2000 ms' }, 'no response within 2000 ms'],
  ['a tcp connection refused', { ok: false, latencyMs: 1, error: 'ECONNREFUSED' }, 'connection refused after 1 ms'],
  ['a tcp host with no route', { ok: false, latencyMs: 3003, error: 'EHOSTUNREACH' }, 'no route to host after 3003 ms'],
  ['a tcp probe with no connection in time', { ok: false, latencyMs: 2000.2, error: 'no connection within 2000 ms' }, 'no connection within 2000 ms'],
  [
    'an exec probe that exited non-zero',
    { ok: false, latencyMs: 41, error: 'web-1: `curl -fsS http://127.0.0.1:8080/health` exited 22: curl: (22) The requested URL returned error: 500' },
    'exit 22 after 41 ms: curl: (22) The requested URL returned error: 500',
  ],
  ['an exec probe that exited without a word', { ok: false, latencyMs: 7, error: 'web-1: `/usr/local/bin/check` exited 1' }, 'exit 1 after 7 ms'],
  ['an exec probe that overran', { ok: false, latencyMs: 5004, error: 'web-1: `/usr/local/bin/check` did not finish within 5000 ms' }, 'did not finish within 5000 ms'],
  ['an exec probe killed by a signal', { ok: false, latencyMs: 12, error: 'web-1: `/usr/local/bin/check` was killed by signal KILL' }, 'killed by signal KILL after 12 ms'],
  ['an exec probe that talked too much', { ok: false, latencyMs: 90, error: 'web-1: `yes` wrote more than 65536 bytes of output; stopped it' }, 'output over 65536 bytes after 90 ms'],
  ['a healthy http probe', { ok: true, status: 200, latencyMs: 5 }, 'HTTP 200 after 5 ms'],
  ['a healthy tcp probe', { ok: true, latencyMs: 5 }, 'ok after 5 ms'],
  ['a failure with no reason given', { ok: false, latencyMs: 5 }, 'failed after 5 ms'],
  ['a failure it has no words for', { ok: false, latencyMs: 5, error: 'unexpected EOF' }, 'unexpected EOF after 5 ms'],
];

describe('describeProbe', () => {
  it.each(cases)('describes %s in a few words', (_name, probe, trailer) => {
    expect(describeProbe(probe)).toBe(trailer);
  });

  it.each(cases)('says each thing once for %s', (_name, probe) => {
    const words: string[] = describeProbe(probe).toLowerCase().match(/[a-z]{2,}/g) ?? [];
    expect(words.filter((word, index) => words.indexOf(word) !== index)).toEqual([]);
  });
});
