import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { InternalError, TendError } from '../errors/index.js';
import type { ProbeSpec } from '../spec/model.js';
import type { RemoteRunner, RunTarget } from './remote-command.js';

/**
 * Probes from tend's side: one attempt each, bounded by a timeout, never throwing for the service's sake
 * (a failing probe is data for the health decision, not an error). The decision over many attempts
 * (min_healthy_time, deadlines) is rollout's, and pure.
 */

export interface ProbeResult {
  readonly ok: boolean;
  readonly latencyMs: number;
  /** HTTP status, for http probes that got a response. */
  readonly status?: number;
  /** The start of the response body (http) or of stdout/stderr (exec), for the record; bounded. */
  readonly bodyExcerpt?: string;
  /** Why it failed, for people. */
  readonly error?: string;
}

const EXCERPT_CHARS = 200;
/** Bytes of an HTTP body read at most, to find the expected substring; the rest is not downloaded. */
const MAX_BODY_BYTES = 64 * 1024;

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > EXCERPT_CHARS ? `${flat.slice(0, EXCERPT_CHARS)}…` : flat;
}

function elapsed(start: number): number {
  return Math.round((performance.now() - start) * 10) / 10;
}

export interface HttpProbe {
  /** Full URL, e.g. `http://10.0.0.5:8080/healthz`. */
  readonly url: string;
  readonly expectStatus?: number;
  readonly expectBody?: string;
  readonly timeoutMs: number;
}

/** GET the URL; healthy when the status matches (default: any 2xx) and the body contains the substring. */
export async function probeHttp(probe: HttpProbe): Promise<ProbeResult> {
  const start = performance.now();
  const signal = AbortSignal.timeout(probe.timeoutMs);
  try {
    const response = await fetch(probe.url, { signal, redirect: 'manual', headers: { 'user-agent': 'tend-probe' } });
    const body = await readBounded(response, MAX_BODY_BYTES);
    const latencyMs = elapsed(start);
    const statusOk = probe.expectStatus === undefined ? response.status >= 200 && response.status < 300 : response.status === probe.expectStatus;
    const bodyOk = probe.expectBody === undefined || body.includes(probe.expectBody);
    const base = { latencyMs, status: response.status, bodyExcerpt: excerpt(body) };
    if (!statusOk) {
      return { ok: false, ...base, error: `status ${response.status}, expected ${probe.expectStatus ?? '2xx'}` };
    }
    if (!bodyOk) return { ok: false, ...base, error: `body does not contain ${JSON.stringify(probe.expectBody)}` };
    return { ok: true, ...base };
  } catch (error) {
    const latencyMs = elapsed(start);
    if (signal.aborted) return { ok: false, latencyMs, error: `no response within ${probe.timeoutMs} ms` };
    return { ok: false, latencyMs, error: describeFetchError(error) };
  }
}

async function readBounded(response: Response, maxBytes: number): Promise<string> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.byteLength;
    }
  } finally {
    // A huge or endless body is not read to the end: cancel frees the connection.
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
}

function describeFetchError(error: unknown): string {
  // undici wraps the socket error ("fetch failed") and keeps the useful part in `cause`.
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
  const code = (cause as { code?: unknown } | undefined)?.code;
  if (cause !== undefined) return typeof code === 'string' ? `${code}: ${cause.message}` : cause.message;
  return error instanceof Error ? error.message : String(error);
}

export interface TcpProbe {
  readonly host: string;
  readonly port: number;
  readonly timeoutMs: number;
}

/** Healthy when a TCP connection is accepted within the timeout. */
export function probeTcp(probe: TcpProbe): Promise<ProbeResult> {
  const start = performance.now();
  return new Promise((resolve) => {
    const socket = connect({ host: probe.host, port: probe.port });
    const finish = (result: ProbeResult): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () => finish({ ok: false, latencyMs: elapsed(start), error: `no connection within ${probe.timeoutMs} ms` }),
      probe.timeoutMs,
    );
    socket.once('connect', () => finish({ ok: true, latencyMs: elapsed(start) }));
    socket.once('error', (error: Error & { code?: string }) =>
      finish({ ok: false, latencyMs: elapsed(start), error: error.code ?? error.message }),
    );
  });
}

export interface ExecProbe {
  readonly argv: readonly string[];
  readonly timeoutMs: number;
}

/**
 * Runs argv on the host through the one exec path (as root via sudo, as the unit's probe would): exit 0 is
 * healthy. An unreachable host is not a failed probe of the new version: that is rethrown as the
 * transient TendError it is, so the health decision does not count the network against the release.
 */
export async function probeExec(pool: RemoteRunner, host: RunTarget, probe: ExecProbe): Promise<ProbeResult> {
  const start = performance.now();
  try {
    const result = await pool.run(host, probe.argv, { sudo: true, timeoutMs: probe.timeoutMs, maxOutputBytes: MAX_BODY_BYTES });
    return { ok: true, latencyMs: elapsed(start), bodyExcerpt: excerpt(result.stdout) };
  } catch (error) {
    if (error instanceof TendError && (error.code === 'E_REMOTE_COMMAND' || error.code === 'E_COMMAND_TIMEOUT' || error.code === 'E_REMOTE_OUTPUT_TOO_LARGE')) {
      return { ok: false, latencyMs: elapsed(start), error: error.message };
    }
    throw error;
  }
}

/** Runs a spec's probe once against a host at `address`. */
export async function runProbe(
  pool: RemoteRunner,
  host: RunTarget & { readonly address: string },
  probe: ProbeSpec,
  timeoutMs: number,
): Promise<ProbeResult> {
  switch (probe.type) {
    case 'http': {
      const hostPart = host.address.includes(':') ? `[${host.address}]` : host.address;
      return probeHttp({
        url: `http://${hostPart}:${probe.port}${probe.path.startsWith('/') ? '' : '/'}${probe.path}`,
        expectStatus: probe.expectStatus,
        ...(probe.expectBody === undefined ? {} : { expectBody: probe.expectBody }),
        timeoutMs,
      });
    }
    case 'tcp':
      return probeTcp({ host: host.address, port: probe.port, timeoutMs });
    case 'exec':
      return probeExec(pool, host, { argv: probe.argv, timeoutMs });
  }
}

/**
 * The last `lines` journal lines of a unit, for the record of a failed rollout. `-o short-iso` for
 * timestamps that sort; `--no-pager` because there is no terminal.
 */
export async function journalTail(pool: RemoteRunner, host: RunTarget, unit: string, lines: number): Promise<string> {
  if (!/^[A-Za-z0-9_.@:-]{1,200}$/.test(unit)) throw new InternalError(`invalid unit name ${JSON.stringify(unit)}`);
  const count = Math.max(1, Math.min(10_000, Math.floor(lines)));
  const result = await pool.run(host, ['journalctl', '-u', unit, '-n', String(count), '--no-pager', '-o', 'short-iso'], {
    sudo: true,
    timeoutMs: 30_000,
    maxOutputBytes: 4 * 1024 * 1024,
  });
  return result.stdout;
}
