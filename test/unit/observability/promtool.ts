import { execFile } from 'node:child_process';
import { access, mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * promtool comes from Debian's `prometheus` package, but only the one binary, unpacked into a cache: `apt-get
 * install` would also create a prometheus user and start prometheus.service listening on :9090, a daemon
 * these tests do not want on the machine. `apt-get download` + `dpkg -x` runs no maintainer script and
 * starts nothing; promtool is a static Go binary, so it runs from any directory.
 */
const CACHE = resolve('node_modules/.cache/tend-promtool');
const CACHED = join(CACHE, 'usr/bin/promtool');

export interface PromtoolResult {
  readonly code: number;
  readonly output: string;
}

/** The path of a promtool to run: one on PATH, or the cached one, unpacking it first if needed. */
export async function ensurePromtool(): Promise<string> {
  if (await runs('promtool')) return 'promtool';
  if (await runs(CACHED)) return CACHED;
  await mkdir(resolve(CACHE, '..'), { recursive: true });
  const work = await mkdtemp(`${CACHE}.download-`);
  try {
    await download(work);
    const deb = (await readdir(work)).find((name) => name.startsWith('prometheus_') && name.endsWith('.deb'));
    if (deb === undefined) throw new Error(`apt-get download left no prometheus .deb in ${work}`);
    const unpacked = join(work, 'root');
    await run('dpkg', ['-x', join(work, deb), unpacked], { timeout: 120_000 });
    // Another test file may have unpacked it meanwhile; either copy is the same package.
    await rename(unpacked, CACHE).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  if (!(await runs(CACHED))) throw new Error(`promtool unpacked into ${CACHE} does not run`);
  return CACHED;
}

async function download(dir: string): Promise<void> {
  const options = { cwd: dir, timeout: 300_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } };
  try {
    await run('apt-get', ['download', '-qq', 'prometheus'], options);
  } catch {
    // A fresh machine may have no package lists yet.
    await run('apt-get', ['update', '-qq'], options);
    await run('apt-get', ['download', '-qq', 'prometheus'], options);
  }
}

async function runs(program: string): Promise<boolean> {
  if (program.includes('/')) {
    const present = await access(program).then(() => true, () => false);
    if (!present) return false;
  }
  return run(program, ['--version']).then(() => true, () => false);
}

/** Runs promtool; a non-zero exit is a result to look at, not an exception. */
export async function promtool(binary: string, args: readonly string[], stdin?: string): Promise<PromtoolResult> {
  return new Promise((resolvePromise, reject) => {
    const child = execFile(binary, [...args], { timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : undefined;
      if (code === undefined) reject(error ?? new Error('promtool did not exit'));
      else resolvePromise({ code, output: `${stdout}${stderr}` });
    });
    child.stdin?.end(stdin ?? '');
  });
}
