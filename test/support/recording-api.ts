import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a fake API received: its method, path and JSON body. */
export interface Call {
  readonly method: string;
  readonly path: string;
  readonly body: Record<string, unknown> | undefined;
}

export type Answer = (status: number, body: unknown) => void;

/** What a fake API decides for one call; `query` is the request's query string. */
export type Route = (call: Call, headers: IncomingHttpHeaders, query: URLSearchParams, answer: Answer) => void;

/**
 * A JSON API on a loopback port for tests: it records every call in order and hands each to `route`. The
 * fakes of the git hosts' APIs (GitHub's and Gitea's, GitLab's) are this plus their own routes.
 */
export class RecordingApi {
  readonly calls: Call[] = [];
  url = '';
  #server: Server | undefined;

  constructor(private readonly route: Route) {}

  /** Listens on a free loopback port; `url` is its address followed by `basePath`. */
  async start(basePath = ''): Promise<void> {
    this.#server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const url = new URL(request.url ?? '/', 'http://x');
        const call: Call = { method: request.method ?? 'GET', path: url.pathname, body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>) };
        this.calls.push(call);
        this.route(call, request.headers, url.searchParams, (status, body) => {
          response.writeHead(status, { 'content-type': 'application/json' });
          response.end(JSON.stringify(body));
        });
      });
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}${basePath}`;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()));
  }
}
