import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A whole process as `/usr/bin/time -v` saw it: wall time, peak RSS, and what it printed. */
export interface TimedRun {
  readonly code: number | null;
  readonly wallMs: number;
  readonly maxRssKiB: number;
  /** User plus system CPU time of the process: its own work, apart from the time it waited. */
  readonly cpuMs: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface TimedOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly timeoutMs?: number;
}

/** The figures of `time -v`'s report that the benchmarks use; throws if the report lacks them. */
export function parseTimeReport(text: string): { wallMs: number; maxRssKiB: number; cpuMs: number } {
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(text);
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):(\d+(?:\.\d+)?)/.exec(text);
  const user = /User time \(seconds\): (\d+(?:\.\d+)?)/.exec(text);
  const system = /System time \(seconds\): (\d+(?:\.\d+)?)/.exec(text);
  if (rss === null || wall === null || user === null || system === null) throw new Error(`not a /usr/bin/time -v report:\n${text}`);
  const seconds = Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]);
  return { wallMs: Math.round(seconds * 1000), maxRssKiB: Number(rss[1]), cpuMs: Math.round((Number(user[1]) + Number(system[1])) * 1000) };
}

/** Runs `file args` under `/usr/bin/time -v` (report to a file, so the program's stderr stays its own). */
export async function timedRun(file: string, args: readonly string[], options: TimedOptions = {}): Promise<TimedRun> {
  const dir = await mkdtemp(join(tmpdir(), 'tend-bench-time-'));
  const reportPath = join(dir, 'time.txt');
  try {
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn('/usr/bin/time', ['-v', '-o', reportPath, file, ...args], {
        env: { ...process.env, ...options.env },
        cwd: options.cwd,
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: options.timeoutMs ?? 30 * 60_000,
        killSignal: 'SIGKILL',
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
      child.on('error', reject);
      child.on('close', (exitCode) => resolve({ code: exitCode, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    });
    const figures = parseTimeReport(await readFile(reportPath, 'utf8'));
    return { code, stdout, stderr, ...figures };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Throws with the program's output when it did not exit with one of `codes`. */
export function expectExit(run: TimedRun, codes: readonly number[], what: string): TimedRun {
  if (run.code === null || !codes.includes(run.code)) {
    throw new Error(`${what} exited ${run.code}, expected ${codes.join(' or ')}:\n${run.stderr.slice(-4000)}\n${run.stdout.slice(-4000)}`);
  }
  return run;
}
