import { request as httpRequest } from 'node:http';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git';

import { TendError } from '../errors/index.js';

export interface GitHttpClientOptions {
  /** Longest wait for a connection, and then between any two bytes, before the request fails. */
  readonly timeoutMs?: number;
  /** Longest a whole request may take, redirects and response body included. */
  readonly deadlineMs?: number;
}

export const GIT_HTTP_DEFAULTS = {
  timeoutMs: 30_000,
  deadlineMs: 120_000,
  maxRedirects: 5,
} as const;

/** Error bodies are only ever shown as an excerpt; a server sending megabytes of HTML is cut off here. */
const ERROR_BODY_LIMIT = 64 * 1024;

const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/**
 * The `http` client tend gives isomorphic-git. Its own node client sets no timeout, so a server that
 * accepts a connection and never answers hangs a fetch forever; this one fails with E_GIT_TIMEOUT
 * (transient) after `timeoutMs` of silence or `deadlineMs` in all, and with E_GIT_UNREACHABLE when the
 * connection fails.
 *
 * Redirects are followed for GET only (git's own `http.followRedirects=initial`), at most five, and only
 * within the origin of the request: the Authorization header must never reach another host, and https
 * must never be downgraded to http. isomorphic-git sends its POSTs to the URL it was given, not to where
 * a redirect led, so a redirect to another path only helps the ref advertisement anyway.
 *
 * Every request gets a connection of its own (no keep-alive agent): a poll makes two or three requests,
 * and a socket reused across them would carry one request's timeout into the next.
 */
export function gitHttpClient(options: GitHttpClientOptions = {}): HttpClient {
  const limits = {
    timeoutMs: options.timeoutMs ?? GIT_HTTP_DEFAULTS.timeoutMs,
    deadlineMs: options.deadlineMs ?? GIT_HTTP_DEFAULTS.deadlineMs,
  };
  return { request: (request) => sendGitRequest(request, limits) };
}

interface Limits {
  readonly timeoutMs: number;
  readonly deadlineMs: number;
}

/** Scheme, host and path: what a message may show of a URL (userinfo and query can carry secrets). */
function displayUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

async function sendGitRequest(request: GitHttpRequest, limits: Limits): Promise<GitHttpResponse> {
  const method = request.method ?? 'GET';
  const body = request.body === undefined ? undefined : await collectBody(request.body);
  const started = new URL(request.url);
  let url = started;
  let active: { req: ClientRequest; res?: IncomingMessage } | undefined;
  let expired: TendError | undefined;

  // One deadline for the whole exchange: it keeps running while isomorphic-git reads the body.
  const deadline = setTimeout(() => {
    expired = timeoutError(method, url, `did not finish within ${seconds(limits.deadlineMs)}`);
    if (active?.res !== undefined) active.res.destroy(expired);
    else active?.req.destroy(expired);
  }, limits.deadlineMs);
  deadline.unref();

  try {
    for (let redirects = 0; ; redirects += 1) {
      const res = await openRequest(method, url, request.headers ?? {}, body, limits, (req) => {
        active = { req };
        if (expired !== undefined) req.destroy(expired);
      });
      if (active !== undefined) active.res = res;
      const location = res.headers.location;
      if (method === 'GET' && REDIRECT_STATUSES.has(res.statusCode ?? 0) && location !== undefined) {
        res.resume();
        const target = new URL(location, url);
        if (target.origin !== started.origin) {
          throw new TendError(
            'E_GIT_REDIRECT',
            'conflict',
            `git server ${displayUrl(started)} redirected to another origin (${target.origin}); refused, so the credentials do not leave ${started.origin}`,
            {
              hint:
                'If the repository has moved, configure its new URL (and credentials for that host) in tend. ' +
                'tend never follows a redirect to another host or from https to http.',
            },
          );
        }
        if (redirects >= GIT_HTTP_DEFAULTS.maxRedirects) {
          throw new TendError(
            'E_GIT_REDIRECT',
            'conflict',
            `git server ${displayUrl(started)} redirected more than ${GIT_HTTP_DEFAULTS.maxRedirects} times`,
            { hint: 'Check the repository URL in the tend configuration; the server may be misconfigured.' },
          );
        }
        url = target;
        continue;
      }
      const status = res.statusCode ?? 0;
      const response = {
        url: url.toString(),
        method,
        headers: flattenHeaders(res),
        statusCode: status,
        statusMessage: res.statusMessage ?? '',
      };
      if (status >= 200 && status < 300) {
        res.once('close', () => clearTimeout(deadline));
        return { ...response, body: relayBody(res, method, url) };
      }
      // isomorphic-git drops most error bodies unread; read them here so the connection closes now.
      const excerpt = await readExcerpt(res, method, url);
      clearTimeout(deadline);
      return { ...response, body: single(excerpt) };
    }
  } catch (error) {
    clearTimeout(deadline);
    throw error;
  }
}

function openRequest(
  method: string,
  url: URL,
  headers: Readonly<Record<string, string>>,
  body: Uint8Array | undefined,
  limits: Limits,
  onCreated: (req: ClientRequest) => void,
): Promise<IncomingMessage> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, {
      method,
      agent: false,
      headers: body === undefined ? headers : { ...headers, 'content-length': String(body.byteLength) },
      // Node applies `timeout` from before the connection exists, so it bounds the connect as well.
      timeout: limits.timeoutMs,
    });
    let response: IncomingMessage | undefined;
    req.on('timeout', () => {
      const error = timeoutError(method, url, `was silent for ${seconds(limits.timeoutMs)}`);
      // Destroying the response too, so a body read in progress fails with this error, not "aborted".
      response?.destroy(error);
      req.destroy(error);
    });
    req.on('error', (error) => reject(networkError(error, method, url)));
    req.on('response', (res) => {
      response = res;
      resolve(res);
    });
    onCreated(req);
    req.end(body);
  });
}

async function collectBody(body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<Uint8Array> {
  // isomorphic-git hands over an array of chunks for a push despite its typings: both are iterable.
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function* relayBody(res: IncomingMessage, method: string, url: URL): AsyncIterableIterator<Uint8Array> {
  try {
    for await (const chunk of res) yield chunk as Buffer;
  } catch (error) {
    throw networkError(error, method, url);
  }
}

async function readExcerpt(res: IncomingMessage, method: string, url: URL): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res) {
      const buffer = chunk as Buffer;
      chunks.push(buffer.subarray(0, ERROR_BODY_LIMIT - size));
      size += buffer.byteLength;
      if (size >= ERROR_BODY_LIMIT) {
        res.destroy();
        break;
      }
    }
  } catch (error) {
    throw networkError(error, method, url);
  }
  return Buffer.concat(chunks);
}

async function* single(chunk: Uint8Array): AsyncIterableIterator<Uint8Array> {
  yield chunk;
}

function flattenHeaders(res: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

function timeoutError(method: string, url: URL, what: string): TendError {
  return new TendError('E_GIT_TIMEOUT', 'transient', `git server request ${method} ${displayUrl(url)} ${what}`, {
    hint:
      'tend retries with backoff. Check that the git server is up and reachable from this machine; a proxy or ' +
      'firewall that accepts connections and drops them looks like this.',
  });
}

function networkError(error: unknown, method: string, url: URL): TendError {
  if (error instanceof TendError) return error;
  const code =
    typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string'
      ? (error as { code: string }).code
      : undefined;
  const reason = code ?? (error instanceof Error ? error.message : String(error));
  return new TendError(
    'E_GIT_UNREACHABLE',
    'transient',
    `git server request ${method} ${displayUrl(url)} failed: ${reason}`,
    {
      hint: 'tend retries with backoff. Check the URL, DNS, and that the git server is up and reachable from this machine.',
      cause: error,
    },
  );
}
