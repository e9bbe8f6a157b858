import { spawn } from 'node:child_process';
import { mkdtemp, rm, unlink, writeFile, chmod } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from './run-command.js';

/** What every request gets while it is set; `hang` accepts the request and never answers. */
export type GitServerFault = 'none' | 'reject-auth' | 'error-500' | 'unavailable-503' | 'hang';

/**
 * Where a push race lands its commit: `advertisement` before the server lists its refs to the pusher (the
 * client sees a remote head it does not contain: non-fast-forward, refused client-side), `update` after
 * the pusher has sent its pack (receive-pack's ref update then fails on the server).
 */
export type PushRacePoint = 'advertisement' | 'update';

export interface GitRequestLogEntry {
  readonly method: string;
  /** Path and query; credentials travel only in the Authorization header, which is never recorded. */
  readonly path: string;
  /** `null`: the connection closed without an answer (the `hang` fault, or the client gave up). */
  readonly status: number | null;
  readonly durationMs: number;
}

export interface GitServerOptions {
  readonly user: string;
  readonly password: string;
  /** Directory holding the bare repositories; a fresh temporary one (removed on close) by default. */
  readonly root?: string;
  /** Called with each entry as it is added to the request log. */
  readonly onRequest?: (entry: GitRequestLogEntry) => void;
  /**
   * The address to listen on: 127.0.0.1 by default; the bridge address (10.78.0.1) for a test host that
   * must reach the server itself.
   */
  readonly host?: string;
}

export interface CommitOptions {
  readonly branch?: string;
  readonly message?: string;
  /** Files to add or replace, path -> content; none makes an empty commit. */
  readonly files?: Readonly<Record<string, string>>;
}

interface PendingRace {
  readonly at: PushRacePoint;
  readonly commit: CommitOptions;
  readonly landed: (sha: string) => void;
  readonly failed: (error: unknown) => void;
}

const GIT_IDENTITY = {
  GIT_AUTHOR_NAME: 'tend e2e',
  GIT_AUTHOR_EMAIL: 'e2e@tend.invalid',
  GIT_COMMITTER_NAME: 'tend e2e',
  GIT_COMMITTER_EMAIL: 'e2e@tend.invalid',
};

/**
 * A smart-HTTP git server for tests: Node's HTTP server in front of `git http-backend` (one CGI process per
 * request), basic auth, a request log, and fault switches a test flips at runtime.
 */
export class GitServer {
  readonly url: string;
  readonly root: string;
  readonly requests: GitRequestLogEntry[] = [];
  private fault: GitServerFault = 'none';
  private open = 0;
  private readonly races = new Map<string, PendingRace>();
  private readonly server: Server;
  private readonly options: GitServerOptions;
  private readonly ownsRoot: boolean;

  private constructor(server: Server, root: string, ownsRoot: boolean, options: GitServerOptions) {
    this.server = server;
    this.root = root;
    this.ownsRoot = ownsRoot;
    this.options = options;
    this.url = `http://${options.host ?? '127.0.0.1'}:${(server.address() as AddressInfo).port}`;
  }

  static async start(options: GitServerOptions): Promise<GitServer> {
    const ownsRoot = options.root === undefined;
    const root = options.root ?? (await mkdtemp(join(tmpdir(), 'tend-e2e-git-')));
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, options.host ?? '127.0.0.1', () => resolve());
    });
    const gitServer = new GitServer(server, root, ownsRoot, options);
    server.on('request', (req, res) => gitServer.handle(req, res));
    return gitServer;
  }

  /** Clone URL without credentials; give them to the client separately (isomorphic-git `onAuth`). */
  repoUrl(name: string): string {
    return `${this.url}/${name}.git`;
  }

  /** Clone URL with the credentials in it, for a person typing `git clone`. */
  repoUrlWithCredentials(name: string): string {
    const url = new URL(this.repoUrl(name));
    url.username = this.options.user;
    url.password = this.options.password;
    return url.toString();
  }

  repoPath(name: string): string {
    return join(this.root, `${name}.git`);
  }

  setFault(fault: GitServerFault): void {
    this.fault = fault;
  }

  /**
   * A bare repository `<name>.git` whose `branch` holds one commit with the files of `fromDir` (ignoring a
   * `.git` in it), or an empty tree. Returns that commit.
   */
  async createRepo(name: string, fromDir?: string, options: { branch?: string; message?: string } = {}): Promise<string> {
    const branch = options.branch ?? 'main';
    const gitDir = this.repoPath(name);
    await runCommand('git', ['init', '--quiet', '--bare', `--initial-branch=${branch}`, gitDir]);
    await this.git(name, ['config', 'http.receivepack', 'true']);
    const indexFile = join(gitDir, 'tend-e2e-index');
    let tree: string;
    if (fromDir === undefined) {
      tree = (await this.git(name, ['mktree'], { input: '' })).trim();
    } else {
      const env = { GIT_INDEX_FILE: indexFile };
      await this.git(name, [`--work-tree=${fromDir}`, 'add', '--all', '.'], { env, cwd: fromDir });
      tree = (await this.git(name, ['write-tree'], { env })).trim();
      await rm(indexFile, { force: true });
    }
    const commit = (await this.git(name, ['commit-tree', tree, '-m', options.message ?? 'Initial commit'])).trim();
    await this.git(name, ['update-ref', `refs/heads/${branch}`, commit, '0'.repeat(40)]);
    return commit;
  }

  /** The commit a branch points at, read from the bare repository. */
  async head(name: string, branch = 'main'): Promise<string> {
    return (await this.git(name, ['rev-parse', `refs/heads/${branch}`])).trim();
  }

  /** Lands a commit on the server directly, as if someone else had pushed it. Returns its id. */
  async landCommit(name: string, options: CommitOptions = {}): Promise<string> {
    const branch = options.branch ?? 'main';
    const parent = await this.head(name, branch);
    const env = { GIT_INDEX_FILE: join(this.repoPath(name), `tend-e2e-index-${process.pid}`) };
    try {
      await this.git(name, ['read-tree', parent], { env });
      for (const [path, content] of Object.entries(options.files ?? {})) {
        const blob = (await this.git(name, ['hash-object', '-w', '--stdin'], { input: content })).trim();
        await this.git(name, ['update-index', '--add', '--cacheinfo', `100644,${blob},${path}`], { env });
      }
      const tree = (await this.git(name, ['write-tree'], { env })).trim();
      const message = options.message ?? 'Commit landed by the test git server';
      const commit = (await this.git(name, ['commit-tree', tree, '-p', parent, '-m', message])).trim();
      // With the expected old value, so a concurrent push and this update cannot both win.
      await this.git(name, ['update-ref', `refs/heads/${branch}`, commit, parent]);
      return commit;
    } finally {
      await rm(env.GIT_INDEX_FILE, { force: true });
    }
  }

  /** Every push to `name` is refused by a pre-receive hook that prints `message` (as `remote: …`). */
  async rejectPushes(name: string, message = 'pushes are refused by the test git server'): Promise<void> {
    const hook = join(this.repoPath(name), 'hooks', 'pre-receive');
    const quoted = `'${message.replace(/'/g, `'\\''`)}'`;
    await writeFile(hook, `#!/bin/sh\necho ${quoted} >&2\nexit 1\n`);
    await chmod(hook, 0o755);
  }

  async allowPushes(name: string): Promise<void> {
    await unlink(join(this.repoPath(name), 'hooks', 'pre-receive')).catch(() => undefined);
  }

  /**
   * Arms a race for the next push to `name`: at `at`, a commit lands on the branch first. Resolves with
   * that commit's id once it has landed.
   */
  racePush(name: string, at: PushRacePoint = 'advertisement', commit: CommitOptions = {}): Promise<string> {
    return new Promise((landed, failed) => {
      this.races.set(name, { at, commit: { message: 'Commit that won the race', ...commit }, landed, failed });
    });
  }

  /** Requests accepted and not yet answered (held by the `hang` fault, or in progress). */
  openRequests(): number {
    return this.open;
  }

  /** Stops listening and drops every open connection, including requests the `hang` fault holds. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
    if (this.ownsRoot) await rm(this.root, { recursive: true, force: true });
  }

  private async git(
    name: string,
    args: readonly string[],
    options: { input?: string; env?: Record<string, string>; cwd?: string } = {},
  ): Promise<string> {
    const result = await runCommand('git', [`--git-dir=${this.repoPath(name)}`, ...args], {
      input: options.input,
      cwd: options.cwd,
      env: { ...process.env, ...GIT_IDENTITY, GIT_CONFIG_NOSYSTEM: '1', HOME: this.root, ...options.env },
    });
    return result.stdout;
  }

  private authorised(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? '';
    if (!header.startsWith('Basic ')) return false;
    const decoded = Buffer.from(header.slice('Basic '.length), 'base64').toString('utf8');
    return decoded === `${this.options.user}:${this.options.password}`;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    const path = req.url ?? '/';
    this.open += 1;
    res.on('close', () => {
      this.open -= 1;
      const entry = {
        method: req.method ?? '?',
        path,
        status: res.writableFinished ? res.statusCode : null,
        durationMs: Math.round(performance.now() - started),
      };
      this.requests.push(entry);
      this.options.onRequest?.(entry);
    });
    switch (this.fault) {
      case 'hang':
        return;
      case 'error-500':
        res.writeHead(500, { 'content-type': 'text/plain' }).end('fault injected: internal server error\n');
        return;
      case 'unavailable-503':
        res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' }).end('fault injected: unavailable\n');
        return;
      case 'reject-auth':
      case 'none':
        break;
    }
    if (this.fault === 'reject-auth' || !this.authorised(req)) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="tend-e2e"', 'content-type': 'text/plain' }).end('unauthorised\n');
      return;
    }
    this.beforeBackend(req).then(
      () => this.runBackend(req, res),
      (error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`test git server: ${String(error)}\n`);
      },
    );
  }

  /** Lands an armed race commit if this request is the moment it was armed for. */
  private async beforeBackend(req: IncomingMessage): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const match = /^\/(.+)\.git\/(info\/refs|git-receive-pack)$/.exec(url.pathname);
    if (match?.[1] === undefined) return;
    const race = this.races.get(match[1]);
    if (race === undefined) return;
    const advertisement = match[2] === 'info/refs' && url.searchParams.get('service') === 'git-receive-pack';
    const update = match[2] === 'git-receive-pack' && req.method === 'POST';
    if (!(race.at === 'advertisement' ? advertisement : update)) return;
    this.races.delete(match[1]);
    try {
      race.landed(await this.landCommit(match[1], race.commit));
    } catch (error) {
      race.failed(error);
      throw error;
    }
  }

  private runBackend(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env['PATH'],
      HOME: this.root,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_PROJECT_ROOT: this.root,
      GIT_HTTP_EXPORT_ALL: '1',
      REQUEST_METHOD: req.method,
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_USER: this.options.user,
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
      GATEWAY_INTERFACE: 'CGI/1.1',
      ...(req.headers['content-length'] === undefined ? {} : { CONTENT_LENGTH: req.headers['content-length'] }),
      ...(req.headers['content-encoding'] === undefined ? {} : { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] }),
      ...(typeof req.headers['git-protocol'] === 'string' ? { HTTP_GIT_PROTOCOL: req.headers['git-protocol'] } : {}),
    };
    const backend = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    req.pipe(backend.stdin);
    backend.stdin.on('error', () => undefined);
    res.on('close', () => {
      if (backend.exitCode === null) backend.kill('SIGKILL');
    });
    let head = Buffer.alloc(0);
    let headersSent = false;
    backend.stdout.on('data', (chunk: Buffer) => {
      if (headersSent) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      const endLf = head.indexOf('\n\n');
      const [cut, gap] = end >= 0 && (endLf < 0 || end < endLf) ? [end, 4] : [endLf, 2];
      if (cut < 0) return;
      let status = 200;
      for (const line of head.subarray(0, cut).toString('latin1').split(/\r?\n/)) {
        const colon = line.indexOf(':');
        if (colon < 0) continue;
        const field = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (field.toLowerCase() === 'status') status = Number.parseInt(value, 10);
        else res.setHeader(field, value);
      }
      res.writeHead(status);
      headersSent = true;
      res.write(head.subarray(cut + gap));
    });
    const stderr: Buffer[] = [];
    backend.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    backend.on('close', (code) => {
      if (!headersSent) {
        const detail = Buffer.concat(stderr).toString('utf8').trim();
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`git http-backend exited ${code ?? 'by signal'}: ${detail}\n`);
        return;
      }
      res.end();
    });
  }
}
