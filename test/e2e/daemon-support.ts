import { createHmac } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import type { Readiness } from '../../src/api/index.js';
import type { CrashPoint } from '../../src/daemon/index.js';
import type { DaemonStatus } from '../../src/status/index.js';
import { freePort } from '../support/free-port.js';
import { runTend, ScratchRepo, startTend, type TendProcess, type TendRun } from '../support/tend-cli.js';
import { GitServer } from './harness/git-server.js';
import { execInHost, type TestHost } from './harness/hosts.js';

const run = promisify(execFile);

export const GIT_USER = 'tend-e2e';
export const GIT_PASSWORD = 'git-password-canary-7d2e';
export const WEBHOOK_SECRET = 'webhook-secret-canary-91ab';
export const API_TOKEN_SECRET = 'api-token-canary-5f3c';

/** Every commit of the branch on the git server, newest first: sha and full message. */
export async function remoteLog(gitServer: GitServer, repo: string): Promise<{ sha: string; message: string }[]> {
  const { stdout } = await run('git', ['--git-dir', gitServer.repoPath(repo), 'log', '--format=%H%x00%B%x01', 'main']);
  return stdout
    .split('\u0001')
    .map((entry) => entry.replace(/^\n/, ''))
    .filter((entry) => entry.includes('\u0000'))
    .map((entry) => {
      const [sha, message] = entry.split('\u0000') as [string, string];
      return { sha, message };
    });
}

/** The tree `git revert --no-edit <bad>` produces on top of `onto`, computed by native git in a scratch clone. */
export async function nativeRevertTree(gitServer: GitServer, repo: string, onto: string, bad: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tend-e2e-revert-'));
  try {
    await run('git', ['clone', '--quiet', gitServer.repoPath(repo), dir]);
    const git = (args: string[]) => run('git', ['-C', dir, '-c', 'user.name=e2e', '-c', 'user.email=e2e@tend.invalid', ...args]);
    await git(['checkout', '--quiet', '--detach', onto]);
    await git(['revert', '--no-edit', bad]);
    return (await git(['rev-parse', 'HEAD^{tree}'])).stdout.trim();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A file as a commit (or `main`) of the server's repo holds it. */
export async function fileAt(gitServer: GitServer, repo: string, rev: string, path: string): Promise<string> {
  return (await run('git', ['--git-dir', gitServer.repoPath(repo), 'show', `${rev}:${path}`])).stdout;
}

/**
 * The example's api script at a version; `breakage` makes it fail the way a bad release does. The crash
 * names its version, so a host's journal tells which release ran there (`unitLogSince`). `serves-500`
 * stays up and answers /cgi-bin/health with HTTP 500 (busybox httpd runs only cgi-bin/ as CGI): the
 * commit must point api's probe there (`apiProbeAt500`).
 */
export function apiScriptAt(script: string, version: string, breakage?: 'exits' | 'never-binds' | 'serves-500'): string {
  const text = script.replace(/^VERSION=.*$/m, `VERSION=${version}`);
  if (breakage === 'exits') return text.replace('set -eu\n', 'set -eu\necho "api $VERSION: crashing on purpose" >&2\nexit 3\n');
  if (breakage === 'never-binds') return text.replace(/exec busybox httpd .*\n/, 'exec sleep 3600\n');
  if (breakage === 'serves-500') {
    const cgi = String.raw`mkdir "$www/cgi-bin"
cat >"$www/cgi-bin/health" <<'CGI'
#!/bin/sh
printf 'HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n\r\nbroken on purpose\n'
CGI
chmod 755 "$www/cgi-bin" "$www/cgi-bin/health"
`;
    return text.replace('exec busybox httpd ', `${cgi}exec busybox httpd `);
  }
  return text;
}

/** api's probe path in a spec, moved to where a `serves-500` release answers. */
export function apiProbeAt500(spec: string): string {
  const next = spec.replace('      path: /health\n', '      path: /cgi-bin/health\n');
  if (next === spec) throw new Error('api spec has no `path: /health` probe to move');
  return next;
}

export async function treeOf(gitServer: GitServer, repo: string, commit: string): Promise<string> {
  return (await run('git', ['--git-dir', gitServer.repoPath(repo), 'rev-parse', `${commit}^{tree}`])).stdout.trim();
}

/** Removes everything tend put on a host, so a first deploy starts from nothing. */
export async function wipeTendState(target: TestHost): Promise<void> {
  const script = [
    'for f in $(grep -l "^# Managed by tend" /etc/systemd/system/*.service /etc/systemd/system/*.timer 2>/dev/null); do',
    '  systemctl disable --now "$(basename "$f")" >/dev/null 2>&1 || true; rm -f "$f"',
    'done',
    'rm -rf /etc/tend /var/lib/tend/releases; systemctl daemon-reload; systemctl reset-failed',
  ].join('\n');
  await execInHost(target, ['sh', '-c', script]);
}

/** The example's api with deadlines short enough to fail fast in a test; the format stays the article's. */
export async function exampleRepo(): Promise<ScratchRepo> {
  const repo = await ScratchRepo.copyOf('deploy-repo-example');
  await repo.edit(
    'services/api/spec.yml',
    '    serial: 1\n',
    '    serial: 1\n    min_healthy_time: 2s\n    healthy_deadline: 10s\n    progress_deadline: 20s\n',
  );
  return repo;
}

/**
 * The example deploy repo on a fresh test git server, with api's probe deadlines short enough to fail fast
 * in a test, and a secrets directory holding the api_token canary; `prepare` edits the repo before its
 * first commit.
 */
export async function exampleOnGitServer(
  repoName: string,
  prepare: (repo: ScratchRepo) => Promise<void> = async () => undefined,
): Promise<{ gitServer: GitServer; secretsDir: string; apiScript: string }> {
  const secretsDir = await mkdtemp(join(tmpdir(), 'tend-e2e-secrets-'));
  await writeFile(join(secretsDir, 'api_token'), `${API_TOKEN_SECRET}\n`, { mode: 0o600 });
  const repo = await exampleRepo();
  await prepare(repo);
  const apiScript = await repo.read('services/api/api');
  const gitServer = await GitServer.start({ user: GIT_USER, password: GIT_PASSWORD });
  await gitServer.createRepo(repoName, repo.dir, { message: 'Example deploy repo' });
  return { gitServer, secretsDir, apiScript };
}

export async function unitProperty(target: TestHost, unit: string, property: string): Promise<string> {
  return (await execInHost(target, ['systemctl', 'show', '-p', property, '--value', unit])).stdout.trim();
}

/** Every example host moved to an address where nothing answers (connection refused at once). */
export async function unreachableInventory(repo: ScratchRepo): Promise<void> {
  await repo.edit('inventory.yml', /address: 10\.78\.0\.\d+\n    port: 22/g, 'address: 127.0.0.2\n    port: 1');
}

/** What a unit wrote to a host's journal since `sinceMs` (epoch ms), one line per entry. */
export async function unitLogSince(target: TestHost, unit: string, sinceMs: number): Promise<string[]> {
  const since = `@${Math.floor(sinceMs / 1000)}`;
  const { stdout } = await execInHost(target, ['journalctl', '--no-pager', '-q', '-o', 'cat', '-u', unit, '--since', since]);
  return stdout.split('\n').filter((line) => line !== '');
}

/** Log events with this `msg` (and these field values), over one or more daemon processes' logs. */
export function eventsNamed(events: readonly Record<string, unknown>[], msg: string, fields: Record<string, unknown> = {}): Record<string, unknown>[] {
  return events.filter((event) => event['msg'] === msg && Object.entries(fields).every(([key, value]) => event[key] === value));
}

export async function versionOn(target: TestHost, port: number): Promise<string> {
  try {
    const response = await fetch(`http://${target.address}:${port}/version`, { signal: AbortSignal.timeout(5000) });
    return (await response.text()).trim();
  } catch (error) {
    return `unreachable: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/**
 * The crash points of src/daemon/crash-points.ts, each with the commit that reaches it: a good version for
 * the rollout's phases, a broken one for the points of the revert. Both kill -9 matrices (one tend, and a
 * standby's takeover) run every row.
 */
export const CRASH_MATRIX = [
  { point: 'stage', broken: false },
  { point: 'write', broken: false },
  { point: 'reload', broken: false },
  { point: 'switch', broken: false },
  { point: 'restart', broken: false },
  { point: 'probe', broken: false },
  { point: 'healthy', broken: false },
  { point: 'after-known-bad', broken: true },
  { point: 'after-revert-commit', broken: true },
  { point: 'after-push', broken: true },
  { point: 'rollback-probe', broken: true },
] as const satisfies readonly { readonly point: CrashPoint; readonly broken: boolean }[];

export interface DaemonOptions {
  readonly repoUrl: string;
  readonly sshKey: string;
  readonly secretsDir: string;
  readonly stateDir: string;
  readonly pollInterval: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** Settings only the config file carries (`retry.max_attempts` has no flag), for `daemonConfigArgs`. */
export interface DaemonConfigOptions extends DaemonOptions {
  readonly retry: { readonly maxAttempts: number; readonly baseDelay: string; readonly maxDelay: string };
  readonly resync: string;
  /** Blocks of the config file no flag sets (`githost`), written as given. */
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** A resync schedule that never comes in a test: midnight on 1 January. */
export const RESYNC_NEVER = '0 0 1 1 *';

async function secretFiles(stateDir: string): Promise<{ credentials: string; webhookSecret: string }> {
  const credentials = join(stateDir, '..', `${relative(tmpdir(), stateDir).replaceAll('/', '-')}-git-credentials`);
  await writeFile(credentials, `${GIT_USER}:${GIT_PASSWORD}\n`, { mode: 0o600 });
  const webhookSecret = `${credentials}-webhook`;
  await writeFile(webhookSecret, `${WEBHOOK_SECRET}\n`, { mode: 0o600 });
  return { credentials, webhookSecret };
}

/** `tend run --config FILE`, the file written beside the state directory (JSON is YAML). */
export async function daemonConfigArgs(options: DaemonConfigOptions, port: number): Promise<string[]> {
  const { credentials, webhookSecret } = await secretFiles(options.stateDir);
  const config = {
    source: { url: options.repoUrl, credentials_file: credentials },
    state_dir: options.stateDir,
    secrets_dir: options.secretsDir,
    ssh: { key: options.sshKey },
    poll: { interval: options.pollInterval },
    resync: { schedule: options.resync },
    listen: `127.0.0.1:${port}`,
    webhook: { secret_file: webhookSecret },
    retry: { max_attempts: options.retry.maxAttempts, base_delay: options.retry.baseDelay, max_delay: options.retry.maxDelay },
    ...options.extra,
  };
  const file = `${credentials}-config.yml`;
  await writeFile(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return ['run', '--config', file];
}

/** The command line of `tend run` against the test git server, with its credentials and webhook secret in files. */
export async function daemonArgs(options: DaemonOptions, port: number): Promise<string[]> {
  const { credentials, webhookSecret } = await secretFiles(options.stateDir);
  return [
    'run',
    '--repo-url',
    options.repoUrl,
    '--git-credentials',
    credentials,
    '--state-dir',
    options.stateDir,
    '--ssh-key',
    options.sshKey,
    '--secrets-dir',
    options.secretsDir,
    '--poll-interval',
    options.pollInterval,
    '--listen',
    `127.0.0.1:${port}`,
    '--webhook-secret-file',
    webhookSecret,
    // The default resync fires at every tenth minute of the clock: a test counting a quiet daemon's requests
    // failed when its window held one.
    '--resync',
    RESYNC_NEVER,
    // Retries in a test must not take the production minute.
    '--retry-base-delay',
    '500ms',
    '--retry-max-delay',
    '2s',
  ];
}

/** `tend run` as a real process, following the test git server, with its HTTP API on a free port. */
export class DaemonUnderTest {
  private constructor(
    readonly process: TendProcess,
    readonly url: string,
    readonly stateDir: string,
    private readonly args: readonly string[],
    private readonly port: number,
  ) {}

  static async start(options: DaemonOptions): Promise<DaemonUnderTest> {
    const port = await freePort();
    return DaemonUnderTest.startWith(await daemonArgs(options, port), port, options.stateDir, options.env);
  }

  /** With a command line of the caller's (daemonArgs plus flags of its own). */
  static async startWith(args: readonly string[], port: number, stateDir: string, env: NodeJS.ProcessEnv = {}): Promise<DaemonUnderTest> {
    const process = startTend(args, env, 900_000);
    const daemon = new DaemonUnderTest(process, `http://127.0.0.1:${port}`, stateDir, args, port);
    await process.waitForStdout(/"msg":"tend started"/);
    return daemon;
  }

  /** A new process with the same command line, state directory and port (after this one ended). */
  startAgain(env: NodeJS.ProcessEnv = {}): Promise<DaemonUnderTest> {
    return DaemonUnderTest.startWith(this.args, this.port, this.stateDir, env);
  }

  /** `tend status [SERVICE] --json` against this daemon: the exit code, and the JSON when there is some. */
  async cliStatus(service?: string): Promise<{ run: TendRun; json: DaemonStatus | undefined }> {
    const run = await runTend(['status', '--json', '--server', this.url, ...(service === undefined ? [] : [service])]);
    let json: DaemonStatus | undefined;
    try {
      json = JSON.parse(run.stdout) as DaemonStatus;
    } catch {
      json = undefined;
    }
    return { run, json };
  }

  /** `tend retry [SERVICE] --json` with the operator token the daemon wrote to its state directory. */
  retry(service?: string): Promise<TendRun> {
    return runTend(['retry', ...(service === undefined ? [] : [service]), '--json', '--server', this.url, '--token-file', join(this.stateDir, 'api-token')]);
  }

  async status(): Promise<DaemonStatus> {
    const response = await fetch(`${this.url}/status`, { signal: AbortSignal.timeout(5000) });
    return (await response.json()) as DaemonStatus;
  }

  /** GET /readyz: whether this instance is ready, and its role (`single`, `leader`, `standby`, ...). */
  async readiness(): Promise<Readiness> {
    const response = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(5000) });
    return (await response.json()) as Readiness;
  }

  /** Polls /status until `predicate` holds; fails with the last status and the log tail otherwise. */
  async waitFor(what: string, predicate: (status: DaemonStatus) => boolean, timeoutMs = 120_000): Promise<DaemonStatus> {
    const deadline = Date.now() + timeoutMs;
    let last: DaemonStatus | undefined;
    for (;;) {
      last = await this.status().catch(() => last);
      if (last !== undefined && predicate(last)) return last;
      if (Date.now() > deadline) {
        const output = this.process.output();
        throw new Error(`timed out waiting for ${what}; last status:\n${JSON.stringify(last, null, 2)}\nlog tail:\n${output.stdout.slice(-6000)}\n${output.stderr.slice(-2000)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** A push event to main signed as GitHub signs it. */
  async webhook(secret = WEBHOOK_SECRET): Promise<number> {
    return (await this.githubEvent('push', { ref: 'refs/heads/main' }, secret)).status;
  }

  /** Any GitHub event (`push`, `ping`, `create`...), signed as GitHub signs it; the answer's status and JSON body. */
  async githubEvent(event: string, payload: Record<string, unknown>, secret = WEBHOOK_SECRET): Promise<{ status: number; body: Record<string, unknown> }> {
    const body = JSON.stringify(payload);
    const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    const response = await fetch(`${this.url}/hooks/git`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-hub-signature-256': signature },
      body,
      signal: AbortSignal.timeout(5000),
    });
    const text = await response.text();
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      parsed = { text };
    }
    return { status: response.status, body: parsed };
  }

  /** JSON log events so far. */
  events(): Record<string, unknown>[] {
    return this.process
      .output()
      .stdout.split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  async stop(): Promise<TendRun> {
    this.process.kill('SIGTERM');
    return this.process.done;
  }
}
