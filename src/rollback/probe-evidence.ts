import type { ProbeResult } from '../rollout/index.js';

/**
 * The value of a revert's `Tend-Probe` trailer: what the last probe of a failed host saw, in a few words
 * (`HTTP 500 after 12 ms`, `connection refused after 3 ms`, `no response within 2000 ms`). A probe's
 * `error` is written for a log line and repeats what `ok` and `status` already say ("status 500, expected
 * 2xx", "ECONNREFUSED: connect ECONNREFUSED 10.0.0.5:8080", "web-1: `curl …` exited 22: …"), so it is
 * read, not pasted: each fact appears once.
 */
export function describeProbe(probe: Pick<ProbeResult, 'ok' | 'status' | 'latencyMs' | 'error'>): string {
  const after = `after ${Math.round(probe.latencyMs)} ms`;
  if (probe.ok) return probe.status === undefined ? `ok ${after}` : `HTTP ${probe.status} ${after}`;
  // An exec probe's error is a remote-command message: "<host>: `<argv>` <what happened>".
  const error = (probe.error ?? '').replace(/^[^\s:`]+: `[^`]*` /, '').trim();
  const http = probe.status === undefined ? '' : `HTTP ${probe.status}`;

  const expected = /^status \d+, expected (\S+)$/.exec(error);
  if (expected !== null) return expected[1] === '2xx' ? `${http} ${after}` : `${http} (expected ${expected[1]}) ${after}`;
  const body = /^body does not contain (.*)$/.exec(error);
  if (body !== null) return `${http} without ${body[1]} in the body ${after}`.trim();
  // A timeout is its own duration: "after" would say the same number twice.
  if (/^(?:no response|no connection|did not finish) within \d+ ms$/.test(error)) return error;
  const exited = /^exited (\d+)(?:: ([^\n]*))?/.exec(error);
  if (exited !== null) return `exit ${exited[1]} ${after}${exited[2] === undefined ? '' : `: ${exited[2]}`}`;
  const signalled = /^was killed by signal (\w+)/.exec(error);
  if (signalled !== null) return `killed by signal ${signalled[1]} ${after}`;
  const tooLarge = /^wrote more than (\d+) bytes of output/.exec(error);
  if (tooLarge !== null) return `output over ${tooLarge[1]} bytes ${after}`;
  const socket = /^([A-Z][A-Z0-9_]+)\b/.exec(error)?.[1];
  if (socket !== undefined) return `${SOCKET_ERRORS[socket] ?? socket} ${after}`;
  if (error !== '') return `${error} ${after}`;
  return http === '' ? `failed ${after}` : `${http} ${after}`;
}

/** Node's socket error codes, as a person says them. */
const SOCKET_ERRORS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  ECONNABORTED: 'connection aborted',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'address does not resolve',
  EAI_AGAIN: 'address does not resolve',
  UND_ERR_SOCKET: 'connection closed',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no response headers',
  UND_ERR_BODY_TIMEOUT: 'response body stalled',
};
