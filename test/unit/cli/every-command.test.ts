import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../e2e/harness/run-command.js';
import { buildTend } from '../../support/tend-cli.js';
import { baseStatus, FAILED_ROLLOUT_HISTORY, synced } from '../api/status-fixtures.js';
import { commitFiles, initRepo, nativeGit } from '../source/scratch-git.js';
import { writeRepo } from '../spec/fixture-repo.js';
import { hostileCases } from '../spec/hostile-corpus.js';

/**
 * Every command of `tend --help`, through the real binary: output into a pipe whose reader goes away ends
 * quietly with the command's own exit code; the exit codes agree between README's command table and each
 * command's --help; and --json prints the same from any working directory.
 */

const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const BIN = join(ROOT, 'bin', 'tend.js');
const EXAMPLE = join(ROOT, 'deploy-repo-example');
/** Long enough for any machine; a command that takes longer hangs, and a hang is a failure. */
const HANG_MS = 30_000;
const STACK_TRACE = /^\s+at .+|EPIPE|Unhandled 'error' event/m;

/** How the reader of tend's stdout behaves: reads it all, closes after the first line (`| head -1`), or at once. */
type Reader = 'all' | 'first-line' | 'closed';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runBinary(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; reader: Reader; stopAfterMs?: number }): Promise<Run> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: HANG_MS,
    killSignal: 'SIGKILL',
  });
  let stdout = '';
  let stderr = '';
  if (options.reader === 'closed') child.stdout.destroy();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (options.reader !== 'first-line' || !stdout.includes('\n')) return;
    stdout = stdout.slice(0, stdout.indexOf('\n') + 1);
    child.stdout.destroy();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const stop = options.stopAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGTERM'), options.stopAfterMs);
  return new Promise((resolveRun, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(stop);
      resolveRun({ code, stdout, stderr });
    });
  });
}

let root: string;
let daemon: Server;
let daemonUrl: string;
const dirs = { unreachable: '', invalid: '', follow: '', key: '', secrets: '', token: '', state: '' };

/** A clone with two commits, to revert the second; a new one per run, since a revert moves the branch. */
async function freshClone(): Promise<string> {
  const dir = await mkdtemp(join(root, 'clone-'));
  await initRepo(dir);
  await nativeGit(dir, ['config', 'user.name', 'Ada Author']);
  await nativeGit(dir, ['config', 'user.email', 'ada@tend.invalid']);
  await commitFiles(dir, { 'services/api/env': 'LEVEL=info\n' }, 'api: log at info', 1_700_000_000);
  await commitFiles(dir, { 'services/api/env': 'LEVEL=debug\n' }, 'api: log at debug', 1_700_000_100);
  return dir;
}

beforeAll(async () => {
  await buildTend();
  root = await mkdtemp(join(tmpdir(), 'tend-every-command-'));
  // The example repo with every host at an address where nothing listens: plan and apply need no hosts.
  dirs.unreachable = join(root, 'unreachable');
  await cp(EXAMPLE, dirs.unreachable, { recursive: true });
  const inventory = await readFile(join(dirs.unreachable, 'inventory.yml'), 'utf8');
  await writeFile(join(dirs.unreachable, 'inventory.yml'), inventory.replaceAll(/address: \S+/g, 'address: 127.0.0.2').replaceAll(/port: \d+/g, 'port: 1'));
  const hostile = hostileCases[0];
  if (hostile === undefined) throw new Error('empty hostile corpus');
  dirs.invalid = join(root, 'invalid');
  await writeRepo(dirs.invalid, hostile.files);
  dirs.follow = join(root, 'follow');
  await cp(dirs.unreachable, dirs.follow, { recursive: true });
  await initRepo(dirs.follow);
  await nativeGit(dirs.follow, ['add', '-A']);
  await nativeGit(dirs.follow, ['commit', '--quiet', '-m', 'the example, hosts unreachable']);
  dirs.key = join(root, 'id_ed25519');
  await runCommand('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', dirs.key]);
  dirs.secrets = join(root, 'secrets');
  await mkdir(dirs.secrets);
  await writeFile(join(dirs.secrets, 'api_token'), 'not-a-real-token\n');
  dirs.token = join(root, 'api-token');
  await writeFile(dirs.token, 'operator-token\n');
  dirs.state = join(root, 'state');
  await mkdir(dirs.state);
  // A stand-in for `tend run`'s API: a converged status, and every operator call accepted.
  daemon = createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    const body = request.method !== 'GET' ? { cleared: ['api'] } : request.url?.startsWith('/history') === true ? { rollouts: FAILED_ROLLOUT_HISTORY } : baseStatus([synced('api'), synced('queue')]);
    response.end(JSON.stringify(body));
  });
  await new Promise<void>((listening) => daemon.listen(0, '127.0.0.1', listening));
  daemonUrl = `http://127.0.0.1:${(daemon.address() as AddressInfo).port}`;
}, 300_000);

afterAll(async () => {
  await new Promise((closed) => daemon.close(closed));
  await rm(root, { recursive: true, force: true });
});

interface Case {
  readonly name: string;
  readonly command: string;
  /** The deploy repo or clone the command reads, if any: --json runs name it relative to their directory. */
  readonly repo?: () => Promise<string>;
  readonly args: (repo: string) => readonly string[];
  readonly code: number;
  readonly env?: NodeJS.ProcessEnv;
  /** For the daemon: SIGTERM after this long. */
  readonly stopAfterMs?: number;
}

const fleet = (repo: string): string[] => ['--repo', repo, '--ssh-key', dirs.key, '--secrets-dir', dirs.secrets];
const server = (): string[] => ['--server', daemonUrl, '--token-file', dirs.token];
const example = (): Promise<string> => Promise.resolve(EXAMPLE);
const invalid = (): Promise<string> => Promise.resolve(dirs.invalid);
const unreachable = (): Promise<string> => Promise.resolve(dirs.unreachable);

const cases: readonly Case[] = [
  { name: 'validate', command: 'validate', repo: example, args: (repo) => ['validate', repo], code: 0 },
  { name: 'validate --json', command: 'validate', repo: example, args: (repo) => ['validate', '--json', repo], code: 0 },
  { name: 'validate --json, invalid repo', command: 'validate', repo: invalid, args: (repo) => ['validate', '--json', repo], code: 1 },
  { name: 'render', command: 'render', repo: example, args: (repo) => ['render', 'api', repo], code: 0 },
  { name: 'render --json', command: 'render', repo: example, args: (repo) => ['render', 'api', '--json', repo], code: 0 },
  { name: 'render --json, invalid repo', command: 'render', repo: invalid, args: (repo) => ['render', 'api', '--json', repo], code: 1 },
  { name: 'render --monitoring --json', command: 'render', repo: example, args: (repo) => ['render', '--monitoring', '--json', repo], code: 0 },
  { name: 'plan, hosts unreachable', command: 'plan', repo: unreachable, args: (repo) => ['plan', ...fleet(repo)], code: 1 },
  { name: 'plan --json, hosts unreachable', command: 'plan', repo: unreachable, args: (repo) => ['plan', '--json', ...fleet(repo)], code: 1 },
  { name: 'apply, hosts unreachable', command: 'apply', repo: unreachable, args: (repo) => ['apply', '--yes', ...fleet(repo)], code: 1 },
  { name: 'apply --json, hosts unreachable', command: 'apply', repo: unreachable, args: (repo) => ['apply', '--yes', '--json', ...fleet(repo)], code: 1 },
  { name: 'logs, hosts unreachable', command: 'logs', repo: unreachable, args: (repo) => ['logs', 'api', '--repo', repo, '--ssh-key', dirs.key], code: 1 },
  {
    name: 'run, stopped by SIGTERM',
    command: 'run',
    args: () => ['run', '--repo-path', dirs.follow, '--state-dir', dirs.state, '--listen', '127.0.0.1:0', '--ssh-key', dirs.key, '--secrets-dir', dirs.secrets],
    code: 0,
    stopAfterMs: 2_000,
  },
  { name: 'status', command: 'status', args: () => ['status', '--server', daemonUrl], code: 0 },
  { name: 'status --json', command: 'status', args: () => ['status', '--json', '--server', daemonUrl], code: 0 },
  { name: 'history', command: 'history', args: () => ['history', '--server', daemonUrl], code: 0 },
  { name: 'history api --json', command: 'history', args: () => ['history', 'api', '--json', '--server', daemonUrl], code: 0 },
  { name: 'revert', command: 'revert', repo: freshClone, args: (repo) => ['revert', '--repo', repo, 'HEAD'], code: 0 },
  { name: 'revert --json', command: 'revert', repo: freshClone, args: (repo) => ['revert', '--json', '--repo', repo, 'HEAD'], code: 0 },
  { name: 'retry --json', command: 'retry', args: () => ['retry', 'api', '--json', ...server()], code: 0 },
  { name: 'ack', command: 'ack', args: () => ['ack', ...server()], code: 0 },
  { name: 'ack --json', command: 'ack', args: () => ['ack', '--json', ...server()], code: 0 },
  { name: 'pause --json', command: 'pause', args: () => ['pause', 'api', '--reason', 'disk swap', '--for', '1h', '--json', ...server()], code: 0 },
  { name: 'resume --json', command: 'resume', args: () => ['resume', 'api', '--json', ...server()], code: 0 },
];

async function commandNames(): Promise<string[]> {
  const help = await runBinary(['--help'], { reader: 'all' });
  const section = help.stdout.split('Commands:\n')[1]?.split('\n\n')[0] ?? '';
  return section.split('\n').map((line) => line.trim().split(/\s+/)[0] ?? '').filter((name) => name !== '');
}

/** `code meaning` pairs of a README table cell such as "0 valid, 1 invalid, 2 usage". */
function exitCodesOf(cell: string): Map<number, string> {
  const codes = new Map<number, string>();
  for (const part of cell.split(/,\s*(?=\d+ )/)) {
    const match = /^(\d+) (.+)$/.exec(part.trim());
    if (match === null) throw new Error(`README exit codes: cannot read "${part}" in "${cell}"`);
    codes.set(Number(match[1]), match[2] ?? '');
  }
  return codes;
}

/** README's command table: command name -> its exit codes. A row may name several commands (`tend retry` / `tend ack`). */
async function readmeExitCodes(): Promise<Map<string, Map<number, string>>> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const table = readme.split('| command | what it does | exit codes |\n')[1]?.split('\n\n')[0] ?? '';
  const rows = new Map<string, Map<number, string>>();
  for (const row of table.split('\n').slice(1)) {
    const cells = row.split(/(?<!\\)\|/).map((cell) => cell.trim());
    const codes = exitCodesOf(cells.at(-2) ?? '');
    for (const [, name] of (cells[1] ?? '').matchAll(/`tend (\w+)/g)) rows.set(name ?? '', codes);
  }
  return rows;
}

async function helpExitCodes(command: string): Promise<Map<number, string>> {
  const help = await runBinary([command, '--help'], { reader: 'all' });
  const codes = new Map<number, string>();
  for (const line of (help.stdout.split('Exit codes:\n')[1] ?? '').split('\n')) {
    const match = /^\s+(\d+)\s+(.+)$/.exec(line);
    if (match !== null) codes.set(Number(match[1]), match[2] ?? '');
  }
  return codes;
}

const usageCodeOf = (codes: ReadonlyMap<number, string>): number[] => [...codes].filter(([, meaning]) => /^usage/.test(meaning)).map(([code]) => code);

describe('every command of tend --help', () => {
  it('is in the table of this test, in README and in the README table\'s exit codes', async () => {
    const names = await commandNames();
    expect(names).toEqual(['validate', 'render', 'plan', 'apply', 'logs', 'run', 'status', 'history', 'revert', 'retry', 'ack', 'pause', 'resume']);
    expect(new Set(cases.map((entry) => entry.command))).toEqual(new Set(names));
    expect([...(await readmeExitCodes()).keys()].sort()).toEqual([...names].sort());
  });

  it('lists --help and --version in tend --help, and --version works', async () => {
    const help = await runBinary(['--help'], { reader: 'all' });
    expect(help.stdout).toMatch(/^\s+-h, --help\s/m);
    expect(help.stdout).toMatch(/^\s+-V, --version\s/m);
    expect((await runBinary(['--version'], { reader: 'all' })).stdout).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('exit codes: README, --help and the binary agree', () => {
  it.each(['validate', 'render', 'plan', 'apply', 'logs', 'run', 'status', 'history', 'revert', 'retry', 'ack', 'pause', 'resume'])(
    'tend %s: the same codes in README and --help, one usage code, and an unknown option exits with it',
    async (command) => {
      const readme = (await readmeExitCodes()).get(command);
      const help = await helpExitCodes(command);
      expect(readme, `README has no row for tend ${command}`).toBeDefined();
      expect([...(readme ?? new Map<number, string>()).keys()].sort()).toEqual([...help.keys()].sort());
      const usage = usageCodeOf(help);
      expect(usage).toHaveLength(1);
      expect(usageCodeOf(readme ?? new Map())).toEqual(usage);
      const run = await runBinary([command, '--no-such-option'], { reader: 'all' });
      expect(run.code).toBe(usage[0]);
      expect(run.stderr).toContain('unknown option --no-such-option (E_USAGE)');
      expect(run.stderr).toContain(`usage: tend ${command}`);
    },
  );

  it('never uses 2 for a usage error of plan, where 2 means "changes planned"', async () => {
    const help = await helpExitCodes('plan');
    expect(help.get(2)).toMatch(/changes/);
    expect((await runBinary(['plan', '--jsn'], { reader: 'all' })).code).not.toBe(2);
    expect((await runBinary(['plan', 'extra'], { reader: 'all' })).code).not.toBe(2);
    expect((await runBinary(['plan', '--repo', join(tmpdir(), 'no-such-dir-for-tend')], { reader: 'all' })).code).not.toBe(2);
  });

  it.each(cases.map((entry) => [entry.name, entry] as const))('%s: exits with a code its README row lists', async (_, entry) => {
    const readme = (await readmeExitCodes()).get(entry.command);
    const run = await runBinary(entry.args(entry.repo === undefined ? '.' : await entry.repo()), {
      reader: 'all',
      ...(entry.stopAfterMs === undefined ? {} : { stopAfterMs: entry.stopAfterMs }),
    });
    expect(run.code, run.stderr).toBe(entry.code);
    expect(readme?.has(entry.code)).toBe(true);
  });
});

describe('output into a pipe whose reader goes away', () => {
  const modes: readonly Reader[] = ['first-line', 'closed'];
  it.each(cases.flatMap((entry) => modes.map((mode) => [entry.name, mode, entry] as const)))(
    '%s, reader %s: no stack trace, the command\'s own exit code',
    async (_, reader, entry) => {
      const run = await runBinary(entry.args(entry.repo === undefined ? '.' : await entry.repo()), {
        reader,
        ...(entry.stopAfterMs === undefined ? {} : { stopAfterMs: entry.stopAfterMs }),
      });
      expect(run.stderr).not.toMatch(STACK_TRACE);
      expect(run.code, run.stderr).toBe(entry.code);
    },
  );

  it.each(['validate', 'render', 'plan', 'apply', 'logs', 'run', 'status', 'history', 'revert', 'retry', 'ack', 'pause', 'resume'])(
    'tend %s --help into a closed pipe: no stack trace, exit 0',
    async (command) => {
      const run = await runBinary([command, '--help'], { reader: 'closed' });
      expect(run.stderr).not.toMatch(STACK_TRACE);
      expect(run.code).toBe(0);
    },
  );
});

describe('--json is the same from any working directory', () => {
  it.each(cases.filter((entry) => entry.args('.').includes('--json')).map((entry) => [entry.name, entry] as const))(
    '%s: from the repo, from a subdirectory of it and from outside it',
    async (_, entry) => {
      const outputs: string[] = [];
      for (const where of ['root', 'subdirectory', 'outside'] as const) {
        const repo = entry.repo === undefined ? ROOT : await entry.repo();
        const subdirectory = join(repo, entry.repo === undefined ? 'test' : 'services');
        if (entry.repo !== undefined) await mkdir(subdirectory, { recursive: true });
        const cwd = where === 'root' ? repo : where === 'subdirectory' ? subdirectory : tmpdir();
        const run = await runBinary(entry.args(relative(cwd, repo) || '.'), { cwd, reader: 'all' });
        expect(run.code, run.stderr).toBe(entry.code);
        // A revert commit's sha carries the time it was made; everything else must be equal.
        outputs.push(run.stdout.replace(/("commit": \{\s*"sha": )"[0-9a-f]{40}"/, '$1"<sha>"'));
      }
      JSON.parse(outputs[0] ?? '');
      expect(outputs[1]).toBe(outputs[0]);
      expect(outputs[2]).toBe(outputs[0]);
    },
  );

  it('reports an invalid repo with the documented summary and the issues at repo-relative paths', async () => {
    const run = await runBinary(['validate', '--json', dirs.invalid], { cwd: tmpdir(), reader: 'all' });
    const json = JSON.parse(run.stdout) as { ok: boolean; summary: { errors: number; files: number }; issues: { file: string }[] };
    expect(json.ok).toBe(false);
    expect(json.summary).toEqual({ errors: json.issues.length, files: new Set(json.issues.map((issue) => issue.file)).size });
    for (const issue of json.issues) expect(issue.file).not.toMatch(/^(\/|\.\.)/);
  });
});

describe('with every host unreachable, plan and apply agree', () => {
  it('plan --json says ok: false with E_PLAN_INCOMPLETE naming each host, and exits 1', async () => {
    const run = await runBinary(['plan', '--json', ...fleet(dirs.unreachable)], { reader: 'all' });
    expect(run.code).toBe(1);
    const json = JSON.parse(run.stdout) as { ok: boolean; error: { code: string; message: string } };
    expect(json.ok).toBe(false);
    expect(json.error.code).toBe('E_PLAN_INCOMPLETE');
    for (const host of ['web-1', 'web-2', 'batch-1']) expect(json.error.message).toContain(`${host} (E_HOST_UNREACHABLE)`);
  });

  it('apply never says "No changes", reports the same error and exits 1 (error before any change)', async () => {
    const text = await runBinary(['apply', '--yes', ...fleet(dirs.unreachable)], { reader: 'all' });
    expect(text.code).toBe(1);
    expect(`${text.stdout}${text.stderr}`).not.toContain('No changes');
    expect(text.stdout).toContain('Incomplete: nothing to change where tend could look (0 up to date); 7 service placements could not be observed.');
    expect(text.stderr).toContain('(E_PLAN_INCOMPLETE)');
    const json = await runBinary(['apply', '--yes', '--json', ...fleet(dirs.unreachable)], { reader: 'all' });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, applied: false, error: { code: 'E_PLAN_INCOMPLETE' } });
  });
});

describe('usage errors are tend\'s own', () => {
  it.each([
    [['validate', '--jsn'], 'unknown option --jsn (E_USAGE)', 'Did you mean --json?'],
    [['plan', '--ssh-kye', 'k'], 'unknown option --ssh-kye (E_USAGE)', 'Did you mean --ssh-key?'],
    [['plan', '--repo'], '--repo needs a value: --repo DIR (E_USAGE)', 'tend plan --help'],
    [['apply', '--yes=no'], '--yes takes no value (given "no") (E_USAGE)', 'tend apply --help'],
    [['render', 'api', 'dir', 'extra'], 'too many arguments: extra (E_USAGE)', 'tend render --help'],
    [['pln'], 'unknown command "pln" (E_USAGE)', 'Did you mean `tend plan`?'],
  ])('tend %j: %s', async (args, message, hint) => {
    const run = await runBinary(args, { reader: 'all' });
    expect(run.stderr).toContain(`error: ${message}`);
    expect(run.stderr).toContain(hint);
    // Node's parseArgs wording, which tells a person who mistyped to write `-- "--jsn"`.
    expect(run.stderr).not.toMatch(/Unknown option '|To specify a positional argument|ERR_PARSE_ARGS/);
    expect(run.code).not.toBe(0);
  });
});
