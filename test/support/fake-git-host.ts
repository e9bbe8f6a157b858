import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A git host's API for tests: GitHub's (and Gitea's) commit statuses and issue comments endpoints, in
 * memory, on a loopback port, recording every call. Calls without `Bearer <token>` get 401; `down`
 * answers 503 to everything.
 */
export interface Call {
  readonly method: string;
  readonly path: string;
  readonly body: Record<string, unknown> | undefined;
}

export class FakeGitHost {
  constructor(
    private readonly token: string,
    private readonly repository: string,
  ) {}

  readonly calls: Call[] = [];
  readonly comments = new Map<number, { issue: number; body: string }>();
  down = false;
  authRefused = 0;
  #nextId = 100;
  #server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.#server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const path = new URL(request.url ?? '/', 'http://x').pathname;
        const call: Call = { method: request.method ?? 'GET', path, body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>) };
        this.calls.push(call);
        const answer = (status: number, body: unknown) => {
          response.writeHead(status, { 'content-type': 'application/json' });
          response.end(JSON.stringify(body));
        };
        if (request.headers.authorization !== `Bearer ${this.token}`) {
          this.authRefused += 1;
          return answer(401, { message: 'Bad credentials' });
        }
        if (this.down) return answer(503, { message: 'down for maintenance' });
        let match: RegExpExecArray | null;
        if (call.method === 'POST' && path.startsWith(`${this.#repo()}/statuses/`) && /\/[0-9a-f]{40}$/.test(path)) return answer(201, { id: 1, ...call.body });
        if ((match = new RegExp(`^${this.#repo()}/issues/(\\d+)/comments$`).exec(path)) !== null) {
          const issue = Number(match[1]);
          if (call.method === 'GET') return answer(200, [...this.comments].filter(([, one]) => one.issue === issue).map(([id, one]) => ({ id, body: one.body })));
          const id = this.#nextId++;
          this.comments.set(id, { issue, body: String(call.body?.['body']) });
          return answer(201, { id });
        }
        if (call.method === 'PATCH' && (match = new RegExp(`^${this.#repo()}/issues/comments/(\\d+)$`).exec(path)) !== null) {
          const existing = this.comments.get(Number(match[1]));
          if (existing === undefined) return answer(404, { message: 'Not Found' });
          existing.body = String(call.body?.['body']);
          return answer(200, { id: Number(match[1]) });
        }
        return answer(404, { message: 'Not Found' });
      });
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  statuses(context: string): { sha: string; state: string; description: string }[] {
    return this.calls
      .filter((call) => call.method === 'POST' && call.path.includes('/statuses/') && call.body?.['context'] === context)
      .map((call) => ({ sha: call.path.split('/').at(-1) ?? '', state: String(call.body?.['state']), description: String(call.body?.['description']) }));
  }

  #repo(): string {
    return `/repos/${this.repository}`;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()));
  }
}

