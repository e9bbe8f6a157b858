import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { downloadFailureError, classifyDownloadFailure, type DownloadFailure } from './download-failure.js';
import { authorizationPair, type StoreCredentials } from './store-credentials.js';

/**
 * `fetch: tend`: tend downloads a run.url artifact itself, for hosts that cannot reach the store. Each
 * sha256 is downloaded at most once at a time (every host of a rollout waits on the same download) and
 * kept in a cache directory (the daemon's `<state_dir>/artifacts`), so later rollouts and rollbacks need no
 * store. The bytes are checked against the commit's sha256 here, before any host sees them, and again on
 * each host. Transient failures are retried a bounded number of times; the rest fail at once.
 */

export interface DownloadRequest {
  readonly service: string;
  readonly url: string;
  readonly sha256: string;
  readonly credentials: StoreCredentials | undefined;
}

export interface ArtifactDownloader {
  /** The verified bytes, or a TendError classified by `classifyDownloadFailure`. */
  download(request: DownloadRequest): Promise<Uint8Array>;
}

export interface DownloaderOptions {
  /** Verified downloads are kept here by sha256; without it, only for this process's lifetime. */
  readonly cacheDir?: string;
  /** One attempt may take this long in all; default 10 minutes. */
  readonly timeoutMs?: number;
  /** Attempts for a transient failure (an unreachable store, a 5xx, a timeout); default 3. */
  readonly attempts?: number;
  /** Downloads kept in the cache, newest first; default 8. */
  readonly keep?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const HEX64 = /^[0-9a-f]{64}$/;
const TLS_CODES: ReadonlySet<string> = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** What went wrong with one of tend's own requests, from what Node's fetch throws. Pure, for a table test. */
export function fetchErrorFailure(error: unknown): DownloadFailure {
  const named = error as { name?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } } | undefined;
  if (named?.name === 'TimeoutError' || named?.name === 'AbortError') return { kind: 'timeout', reason: 'no complete answer within the download timeout' };
  const code = typeof named?.cause?.code === 'string' ? named.cause.code : undefined;
  const detail = typeof named?.cause?.message === 'string' ? named.cause.message : typeof named?.message === 'string' ? named.message : String(error);
  if (code !== undefined && TLS_CODES.has(code)) return { kind: 'tls', reason: `${code}: ${detail}` };
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'ETIMEDOUT') return { kind: 'timeout', reason: detail };
  return { kind: 'unreachable', reason: code === undefined ? detail : `${code}: ${detail}` };
}

export function artifactDownloader(options: DownloaderOptions = {}): ArtifactDownloader {
  const inFlight = new Map<string, Promise<Uint8Array>>();
  // Without a cache directory (`tend apply`), the process keeps what it downloaded: every batch reuses it.
  const inMemory = new Map<string, Uint8Array>();
  const attempts = options.attempts ?? 3;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  async function cached(sha256: string): Promise<Uint8Array | undefined> {
    if (options.cacheDir === undefined) return inMemory.get(sha256);
    try {
      const bytes = await readFile(join(options.cacheDir, sha256));
      // A cache file is trusted no more than a download: a disk can rot, a person can edit.
      return createHash('sha256').update(bytes).digest('hex') === sha256 ? bytes : undefined;
    } catch {
      return undefined;
    }
  }

  async function keep(sha256: string, bytes: Uint8Array): Promise<void> {
    const dir = options.cacheDir;
    if (dir === undefined) {
      inMemory.set(sha256, bytes);
      return;
    }
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const temp = join(dir, `.tmp-${randomBytes(6).toString('hex')}`);
    await writeFile(temp, bytes, { mode: 0o600 });
    await rename(temp, join(dir, sha256));
    const names = (await readdir(dir)).filter((name) => HEX64.test(name));
    const dated = await Promise.all(names.map(async (name) => ({ name, at: (await stat(join(dir, name))).mtimeMs })));
    dated.sort((a, b) => b.at - a.at);
    for (const old of dated.slice(options.keep ?? 8)) if (old.name !== sha256) await rm(join(dir, old.name), { force: true });
  }

  async function attempt(request: DownloadRequest): Promise<Uint8Array | DownloadFailure> {
    const headers: Record<string, string> = {};
    if (request.credentials !== undefined) {
      const [name, value] = authorizationPair(request.credentials);
      headers[name] = value;
    }
    try {
      const response = await fetch(request.url, { headers, redirect: 'follow', signal: AbortSignal.timeout(options.timeoutMs ?? 600_000) });
      if (!response.ok) {
        await response.body?.cancel().catch(() => undefined);
        return { kind: 'http', status: response.status };
      }
      const bytes = new Uint8Array(await response.arrayBuffer());
      const got = createHash('sha256').update(bytes).digest('hex');
      return got === request.sha256 ? bytes : { kind: 'hash-mismatch', got };
    } catch (error) {
      return fetchErrorFailure(error);
    }
  }

  async function download(request: DownloadRequest): Promise<Uint8Array> {
    const hit = await cached(request.sha256);
    if (hit !== undefined) return hit;
    for (let tried = 1; ; tried += 1) {
      const outcome = await attempt(request);
      if (outcome instanceof Uint8Array) {
        await keep(request.sha256, outcome).catch(() => undefined);
        return outcome;
      }
      if (classifyDownloadFailure(outcome).errorClass !== 'transient' || tried >= attempts) {
        throw downloadFailureError(outcome, { service: request.service, url: request.url, sha256: request.sha256, where: { host: 'tend', command: `download ${request.url}` } });
      }
      await sleep(1000 * 2 ** (tried - 1));
    }
  }

  return {
    download(request) {
      const running = inFlight.get(request.sha256);
      if (running !== undefined) return running;
      const started = download(request).finally(() => inFlight.delete(request.sha256));
      inFlight.set(request.sha256, started);
      return started;
    },
  };
}
