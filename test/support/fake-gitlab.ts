import type { IncomingHttpHeaders } from 'node:http';
import { RecordingApi, type Answer, type Call } from './recording-api.js';

/** The states GitLab's `POST /projects/:id/statuses/:sha` accepts; anything else is its 400. */
const STATES = new Set(['pending', 'running', 'success', 'failed', 'canceled', 'skipped']);

/**
 * GitLab's REST API v4 for tests, as documented: commit statuses (`POST /projects/:id/statuses/:sha`) and
 * merge request notes (list, create, update), in memory on a loopback port under `/api/v4`, recording every
 * call. `:id` is the project's URL-encoded path (`acme%2Fdeploy`), as tend sends it. Calls without
 * `PRIVATE-TOKEN: <token>` get 401; `down` answers 503 to everything. Every merge request already carries a
 * system note, as GitLab's do, so finding tend's note means reading the bodies.
 */
export class FakeGitLab {
  constructor(
    private readonly token: string,
    private readonly project: string,
  ) {}

  readonly notes = new Map<number, { mergeRequest: number; body: string; system: boolean }>();
  down = false;
  authRefused = 0;
  #nextId = 500;
  /** The state of each (sha, name) status, as GitLab's state machine has it. */
  readonly #latest = new Map<string, string>();
  readonly #api = new RecordingApi((call, headers, query, answer) => this.#route(call, headers, query, answer));

  get calls(): readonly Call[] {
    return this.#api.calls;
  }

  get url(): string {
    return this.#api.url;
  }

  start(): Promise<void> {
    return this.#api.start('/api/v4');
  }

  close(): Promise<void> {
    return this.#api.close();
  }

  #route(call: Call, headers: IncomingHttpHeaders, query: URLSearchParams, answer: Answer): void {
    const path = call.path;
    if (headers['private-token'] !== this.token) {
      this.authRefused += 1;
      return answer(401, { message: '401 Unauthorized' });
    }
    if (this.down) return answer(503, { message: 'GitLab is not responding' });
    const project = `/api/v4/projects/${encodeURIComponent(this.project)}`;
    let match: RegExpExecArray | null;
    if (call.method === 'POST' && (match = new RegExp(`^${project}/statuses/([0-9a-f]{40})$`).exec(path)) !== null) {
      const state = call.body?.['state'];
      if (typeof state !== 'string' || !STATES.has(state)) return answer(400, { error: 'state does not have a valid value' });
      // GitLab keeps a pending status as one job: enqueueing it again is a refused transition.
      const key = `${match[1]} ${String(call.body?.['name'])}`;
      if (state === 'pending' && this.#latest.get(key) === 'pending') {
        return answer(400, { message: 'Cannot transition status via :enqueue from :pending (Reason(s): Status cannot transition via "enqueue")' });
      }
      this.#latest.set(key, state);
      return answer(201, { id: 1, sha: match[1], status: state, name: call.body?.['name'] ?? 'default' });
    }
    if ((match = new RegExp(`^${project}/merge_requests/(\\d+)/notes$`).exec(path)) !== null) {
      const mergeRequest = Number(match[1]);
      this.#systemNote(mergeRequest);
      if (call.method === 'GET') {
        const page = Number(query.get('page') ?? '1');
        const listed = [...this.notes].filter(([, note]) => note.mergeRequest === mergeRequest).map(([id, note]) => ({ id, body: note.body, system: note.system }));
        return answer(200, page === 1 ? listed : []);
      }
      if (call.method !== 'POST') return answer(405, { message: '405 Method Not Allowed' });
      const id = this.#nextId++;
      this.notes.set(id, { mergeRequest, body: String(call.body?.['body']), system: false });
      return answer(201, { id, body: call.body?.['body'] });
    }
    if (call.method === 'PUT' && (match = new RegExp(`^${project}/merge_requests/(\\d+)/notes/(\\d+)$`).exec(path)) !== null) {
      const note = this.notes.get(Number(match[2]));
      if (note === undefined || note.mergeRequest !== Number(match[1])) return answer(404, { message: '404 Not found' });
      note.body = String(call.body?.['body']);
      return answer(200, { id: Number(match[2]), body: note.body });
    }
    return answer(404, { message: '404 Not Found' });
  }

  /** Every status posted for `name`, in order: the sha from the path, GitLab's state and the description. */
  statuses(name: string): { sha: string; state: string; description: string; targetUrl: unknown }[] {
    return this.calls
      .filter((call) => call.method === 'POST' && call.path.includes('/statuses/') && call.body?.['name'] === name)
      .map((call) => ({ sha: call.path.split('/').at(-1) ?? '', state: String(call.body?.['state']), description: String(call.body?.['description']), targetUrl: call.body?.['target_url'] }));
  }

  /** The notes tend wrote (system notes left out). */
  ours(): { mergeRequest: number; body: string }[] {
    return [...this.notes.values()].filter((note) => !note.system);
  }

  #systemNote(mergeRequest: number): void {
    if ([...this.notes.values()].some((note) => note.mergeRequest === mergeRequest && note.system)) return;
    this.notes.set(this.#nextId++, { mergeRequest, body: 'added 1 commit', system: true });
  }
}
