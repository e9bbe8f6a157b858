import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * The real `tend` binary, as a user runs it, for end-to-end tests: built once per test process from the
 * working tree, run with the harness's client key, a deploy repo copied to a temp dir and a secrets dir.
 */

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const BIN = join(ROOT, 'bin', 'tend.js');

let built: Promise<void> | undefined;

/** Compiles src/ once, so a test never runs a stale dist/. */
export function buildTend(): Promise<void> {
  built ??= promisify(execFile)(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', join(ROOT, 'tsconfig.json')], { timeout: 300_000 }).then(() => undefined);
  return built;
}

export interface TendRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface TendProcess {
  /** Resolves when a line of stderr matches. */
  readonly waitForStderr: (pattern: RegExp) => Promise<string>;
  /** Resolves when a line of stdout (the daemon's JSON log) matches. */
  readonly waitForStdout: (pattern: RegExp) => Promise<string>;
  /** Everything printed so far. */
  readonly output: () => { readonly stdout: string; readonly stderr: string };
  readonly kill: (signal: NodeJS.Signals) => void;
  /** Closes the read end of tend's stdout, as `| head -1` does after its line: tend's next write gets EPIPE. */
  readonly closeStdout: () => void;
  readonly done: Promise<TendRun>;
}

export function startTend(args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 600_000): TendProcess {
  // A hang must fail the test that caused it, with tend's output, rather than stall the suite.
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
  const text = { stdout: '', stderr: '' };
  const waiters: { stream: 'stdout' | 'stderr'; pattern: RegExp; resolve: (line: string) => void }[] = [];
  const matchLine = (stream: 'stdout' | 'stderr', pattern: RegExp): string | undefined => text[stream].split('\n').find((candidate) => pattern.test(candidate));
  const collect = (stream: 'stdout' | 'stderr') => (chunk: string) => {
    text[stream] += chunk;
    for (const waiter of [...waiters]) {
      if (waiter.stream !== stream) continue;
      const line = matchLine(stream, waiter.pattern);
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  };
  child.stdout.setEncoding('utf8').on('data', collect('stdout'));
  child.stderr.setEncoding('utf8').on('data', collect('stderr'));
  const done = new Promise<TendRun>((resolveRun, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolveRun({ code: code ?? (signal === null ? -1 : 128 + (constants.signals[signal] ?? 0)), stdout: text.stdout, stderr: text.stderr }));
  });
  const waitFor = (stream: 'stdout' | 'stderr') => (pattern: RegExp) =>
    new Promise<string>((resolveLine, reject) => {
      const line = matchLine(stream, pattern);
      if (line !== undefined) return resolveLine(line);
      waiters.push({ stream, pattern, resolve: resolveLine });
      void done.then(() => reject(new Error(`tend ended before ${stream} matched ${pattern}:\n${text.stderr}\n${text.stdout.slice(-4000)}`)));
    });
  return {
    done,
    waitForStderr: waitFor('stderr'),
    waitForStdout: waitFor('stdout'),
    output: () => ({ ...text }),
    kill: (signal) => {
      child.kill(signal);
    },
    closeStdout: () => {
      child.stdout.destroy();
    },
  };
}

export function runTend(args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs?: number): Promise<TendRun> {
  return startTend(args, env, timeoutMs).done;
}

/** A scratch copy of a deploy repo that a test edits like a developer would. */
export class ScratchRepo {
  private constructor(readonly dir: string) {}

  static async copyOf(source: string): Promise<ScratchRepo> {
    const dir = await mkdtemp(join(tmpdir(), 'tend-e2e-repo-'));
    await cp(resolve(ROOT, source), dir, { recursive: true });
    return new ScratchRepo(dir);
  }

  async read(path: string): Promise<string> {
    return readFile(join(this.dir, path), 'utf8');
  }

  async write(path: string, text: string): Promise<void> {
    await writeFile(join(this.dir, path), text, { mode: 0o755 });
  }

  async edit(path: string, from: string | RegExp, to: string): Promise<void> {
    const text = await this.read(path);
    const next = text.replace(from, to);
    if (next === text) throw new Error(`editing ${path}: ${String(from)} not found`);
    await this.write(path, next);
  }

  /** Rewrites a service's artifact and the `sha256:` its spec pins, as a developer making a release does. */
  async releaseArtifact(service: string, artifact: string, text: string): Promise<void> {
    await this.write(`services/${service}/${artifact}`, text);
    const sha = createHash('sha256').update(text).digest('hex');
    await this.edit(`services/${service}/spec.yml`, /sha256: [0-9a-f]{64}/, `sha256: ${sha}`);
  }
}
