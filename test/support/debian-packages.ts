import { spawn } from 'node:child_process';
import { access, constants, rm, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

/**
 * Installs the Debian packages that provide the programs a test suite runs, so that a fresh machine needs
 * no manual step: a package installed by hand once makes the suite pass on that machine only. Shared by
 * the e2e harness and the unit project's global setup.
 */

/** A program a suite runs (a name looked up on PATH and the sbin directories, or an absolute path) and its package. */
export type RequiredProgram = readonly [program: string, debianPackage: string];

/** vitest, npm and sudo may give a PATH without the sbin directories where sshd, ip and nft live. */
const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

export function pathWithSbin(): string {
  const current = (process.env['PATH'] ?? '/usr/bin:/bin').split(delimiter);
  return [...current, ...SBIN_DIRS.filter((dir) => !current.includes(dir))].join(delimiter);
}

async function executable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

export async function findProgram(program: string): Promise<string | undefined> {
  if (program.startsWith('/')) return (await executable(program)) ? program : undefined;
  for (const dir of pathWithSbin().split(delimiter)) {
    const candidate = join(dir, program);
    if (await executable(candidate)) return candidate;
  }
  return undefined;
}

/** The packages whose programs are missing, sorted, each once. */
export async function missingPackages(required: readonly RequiredProgram[]): Promise<string[]> {
  const missing = new Set<string>();
  for (const [program, debianPackage] of required) {
    if ((await findProgram(program)) === undefined) missing.add(debianPackage);
  }
  return [...missing].sort();
}

/** What went wrong and what to do about it, both in the message (vitest prints only the message). */
export class PackageInstallError extends Error {
  readonly packages: readonly string[];
  /** The message without the hint. */
  readonly summary: string;
  readonly hint: string;

  constructor(packages: readonly string[], summary: string, hint: string, options?: { cause?: unknown }) {
    super(`${summary}\n  hint: ${hint}`, options);
    this.name = 'PackageInstallError';
    this.packages = packages;
    this.summary = summary;
    this.hint = hint;
  }
}

/** A fresh machine downloads up to a few hundred MB (chromium); a cold mirror can be slow. */
const APT_TIMEOUT_MS = 20 * 60_000;
/**
 * Several suites on one machine may install at once; apt-get waits for dpkg's lock this long instead of
 * failing at once with "Could not get lock".
 */
const DPKG_LOCK_WAIT_SECONDS = '600';
const POLICY_RC_D = '/usr/sbin/policy-rc.d';

/**
 * Installs the packages of the programs that are missing with apt-get; returns the packages installed
 * (none when everything is there). Needs root and apt-get, and says so when either is missing.
 *
 * While it installs, no package may start a service: openssh-server would otherwise start sshd on port 22
 * (and prometheus a server on :9090), daemons no test wants. Debian's invoke-rc.d and deb-systemd-invoke
 * ask /usr/sbin/policy-rc.d first; exit 101 means "do not start". One is put there for the install only when
 * the machine has none, and removed afterwards; a machine's own policy is left alone.
 */
export async function ensurePackages(required: readonly RequiredProgram[], log: (line: string) => void = () => undefined): Promise<string[]> {
  const packages = await missingPackages(required);
  if (packages.length === 0) return [];
  const manual = `apt-get install -y --no-install-recommends ${packages.join(' ')}`;
  if (process.getuid?.() !== 0) {
    throw new PackageInstallError(packages, `missing packages ${packages.join(', ')}, and installing them needs root`, `run the tests as root, or run \`${manual}\` once`);
  }
  if ((await findProgram('apt-get')) === undefined) {
    throw new PackageInstallError(packages, `missing packages ${packages.join(', ')} and no apt-get to install them`, `the suite installs packages on Debian/Ubuntu only; elsewhere install the equivalents of ${packages.join(', ')} by hand`);
  }
  log(`installing ${packages.join(' ')} with apt-get`);
  const env = { ...process.env, PATH: pathWithSbin(), DEBIAN_FRONTEND: 'noninteractive' };
  const placedPolicy = await writeFile(POLICY_RC_D, '#!/bin/sh\n# placed by tend\'s test suite while it installs packages\nexit 101\n', { mode: 0o755, flag: 'wx' }).then(
    () => true,
    () => false,
  );
  try {
    await apt(['update', '-q'], env);
    await apt(['install', '-y', '-q', '--no-install-recommends', '-o', `DPkg::Lock::Timeout=${DPKG_LOCK_WAIT_SECONDS}`, ...packages], env);
  } catch (error) {
    throw new PackageInstallError(packages, `could not install ${packages.join(', ')} with apt-get`, `check that the Debian mirror is reachable (see the cause), or run \`${manual}\` by hand`, { cause: error });
  } finally {
    if (placedPolicy) await rm(POLICY_RC_D, { force: true });
  }
  const stillMissing = await missingPackages(required);
  if (stillMissing.length > 0) {
    throw new PackageInstallError(stillMissing, `apt-get installed ${packages.join(', ')}, yet programs of ${stillMissing.join(', ')} are still missing`, 'the package may have moved the program; look with `dpkg -L <package>`');
  }
  return packages;
}

function apt(args: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('apt-get', [...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer): void => {
      // The tail is what explains a failure; a full install log is megabytes.
      output = (output + chunk.toString('utf8')).slice(-8_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), APT_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`apt-get ${args.join(' ')} ended with ${code === null ? `signal ${signal}` : `exit ${code}`}:\n${output.trim()}`));
    });
  });
}
