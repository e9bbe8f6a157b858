import type { IncomingHttpHeaders } from 'node:http';
import { RecordingApi, type Answer, type Call } from './recording-api.js';

/**
 * A git host's API for tests: GitHub's (and Gitea's) commit statuses and issue comments endpoints, in
 * memory, on a loopback port, recording every call. Calls without `Bearer <token>` get 401; `down`
 * answers 503 to everything.
 */
export class FakeGitHost {
  constructor(
    private readonly token: string,
    private readonly repository: string,
  ) {}

  readonly comments = new Map<number, { issue: number; body: string }>();
  down = false;
  authRefused = 0;
  #nextId = 100;
  readonly #api = new RecordingApi((call, headers, _query, answer) => this.#route(call, headers, answer));

  get calls(): readonly Call[] {
    return this.#api.calls;
  }

  get url(): string {
    return this.#api.url;
  }

  start(): Promise<void> {
    return this.#api.start();
  }

  close(): Promise<void> {
    return this.#api.close();
  }

  #route(call: Call, headers: IncomingHttpHeaders, answer: Answer): void {
    const path = call.path;
    if (headers.authorization !== `Bearer ${this.token}`) {
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
  }

  statuses(context: string): { sha: string; state: string; description: string }[] {
    return this.calls
      .filter((call) => call.method === 'POST' && call.path.includes('/statuses/') && call.body?.['context'] === context)
      .map((call) => ({ sha: call.path.split('/').at(-1) ?? '', state: String(call.body?.['state']), description: String(call.body?.['description']) }));
  }

  #repo(): string {
    return `/repos/${this.repository}`;
  }
}
