import { execFile } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEFAULT_CONFIG_PATH, defaultDaemonConfig } from '../../../src/daemon/daemon-config.js';
import { parseDuration } from '../../../src/spec/index.js';

/**
 * The shipped unit, systemd/tend.service, through the real systemd 252: `verify` against a temporary
 * root holding systemd's own units and an executable at /usr/lib/tend/node (so ExecStart= resolves), and
 * `security --offline` for systemd's own rating of the sandbox; its user and directories from
 * systemd/tend.sysusers and systemd/tend.tmpfiles.
 */
const run = promisify(execFile);
const SYSTEMD_UNITS = '/usr/lib/systemd/system';
const UNIT = new URL('../../../systemd/tend.service', import.meta.url);
const SYSUSERS = new URL('../../../systemd/tend.sysusers', import.meta.url);
const TMPFILES = new URL('../../../systemd/tend.tmpfiles', import.meta.url);
const ENV = { ...process.env, SYSTEMD_LOG_COLOR: '0', SYSTEMD_PAGER: '', SYSTEMD_COLORS: '0' };

let root: string;
let unitText: string;

async function analyze(args: readonly string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run('systemd-analyze', [...args], { env: ENV });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number | string; stdout?: string; stderr?: string };
    if (failed.code === 'ENOENT') throw new Error('systemd-analyze is not installed: apt-get install systemd');
    return { code: typeof failed.code === 'number' ? failed.code : -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

/**
 * The real verifier is the proof, so a machine without it gets it installed rather than a skipped test
 * (as test/unit/render/systemd-verify.test.ts does; its helper is local to that file).
 */
async function ensureSystemdAnalyze(): Promise<void> {
  const present = await run('systemd-analyze', ['--version']).then(() => true, () => false);
  if (present) return;
  await run('apt-get', ['update', '-qq'], { timeout: 300_000 });
  await run('apt-get', ['install', '-y', '-qq', 'systemd'], { timeout: 300_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

async function installUnit(name: string, content: string): Promise<void> {
  const path = join(root, 'etc/systemd/system', name);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
}

beforeAll(async () => {
  await ensureSystemdAnalyze();
  root = await mkdtemp(join(tmpdir(), 'tend-unit-'));
  await cp(SYSTEMD_UNITS, join(root, SYSTEMD_UNITS), { recursive: true, verbatimSymlinks: true });
  await mkdir(join(root, 'usr/lib/tend'), { recursive: true });
  await writeFile(join(root, 'usr/lib/tend/node'), '#!/bin/sh\nexit 0\n');
  await chmod(join(root, 'usr/lib/tend/node'), 0o755);
  unitText = await readFile(UNIT, 'utf8');
  await installUnit('tend.service', unitText);
}, 600_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Values of `Key=` in the unit, in order (comments skipped). */
function settings(key: string): string[] {
  return unitText
    .split('\n')
    .filter((line) => line.startsWith(`${key}=`))
    .map((line) => line.slice(key.length + 1));
}

describe('systemd/tend.service', () => {
  it('passes systemd-analyze verify without a single warning', async () => {
    const result = await analyze(['verify', `--root=${root}`, '--man=no', 'tend.service']);
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  });

  it('would be reported by verify if a setting were broken (the check can fail)', async () => {
    await installUnit('tend-broken.service', unitText.replace('TimeoutStopSec=120s', 'TimeoutStopSec=lots').replace('ProtectSystem=strict', 'ProtectSystem=strikt'));
    const result = await analyze(['verify', `--root=${root}`, '--man=no', 'tend-broken.service']);
    expect(result.output).toContain('Failed to parse time value, ignoring: lots');
    expect(result.output).toContain('Failed to parse protect system value, ignoring: strikt');
  });

  it('is rated OK or better by systemd-analyze security', async () => {
    const result = await analyze(['security', '--offline=yes', `--root=${root}`, '--no-pager', 'tend.service']);
    const rating = /Overall exposure level for tend\.service: ([\d.]+) (\w+)/.exec(result.output);
    expect(rating, result.output).not.toBeNull();
    expect(['PERFECT', 'SAFE', 'OK']).toContain(rating?.[2]);
  });

  it('gives tend longer to stop than its default shutdown grace, so a host step is not killed halfway', () => {
    const [timeout] = settings('TimeoutStopSec');
    const timeoutMs = parseDuration(timeout ?? '');
    expect(timeoutMs).toBeDefined();
    expect(timeoutMs ?? 0).toBeGreaterThan(defaultDaemonConfig.shutdownGraceMs);
    expect(settings('KillSignal')).toEqual(['SIGTERM']);
  });

  it('runs tend with its own Node runtime by absolute path (not wherever npm put a binary) and the default config path', () => {
    expect(settings('ExecStart')).toEqual([`/usr/lib/tend/node /usr/lib/tend/bin/tend.js run --config ${DEFAULT_CONFIG_PATH}`]);
  });

  it('creates its user with systemd-sysusers: a system user tend, home /var/lib/tend, no login shell', async () => {
    const sysroot = await mkdtemp(join(tmpdir(), 'tend-sysusers-'));
    try {
      await mkdir(join(sysroot, 'etc'), { recursive: true });
      await run('systemd-sysusers', [`--root=${sysroot}`, new URL(SYSUSERS).pathname], { env: ENV });
      const passwd = await readFile(join(sysroot, 'etc/passwd'), 'utf8');
      const entry = passwd.split('\n').find((line) => line.startsWith('tend:'))?.split(':');
      expect(entry?.[5]).toBe('/var/lib/tend');
      expect(entry?.[6]).toBe('/usr/sbin/nologin');
      expect(Number(entry?.[2])).toBeLessThan(1000);
      expect(await readFile(join(sysroot, 'etc/group'), 'utf8')).toMatch(/^tend:/m);
    } finally {
      await rm(sysroot, { recursive: true, force: true });
    }
  });

  it('has tmpfiles entries for every directory the unit and the default config use, owned as the unit expects', async () => {
    const lines = (await readFile(TMPFILES, 'utf8')).split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    const entries = new Map(lines.map((line) => {
      const [type, path, mode, user, group] = line.split(/\s+/);
      return [path, `${type} ${mode} ${user}:${group}`];
    }));
    expect(entries.get(defaultDaemonConfig.stateDir)).toBe(`d ${settings('StateDirectoryMode')[0]} tend:tend`);
    expect(entries.get('/etc/tend')).toBe(`d ${settings('ConfigurationDirectoryMode')[0]} root:tend`);
    expect(entries.get(dirname(defaultDaemonConfig.sshKey))).toBe('d 0750 root:tend');
    expect(entries.get(settings('ReadWritePaths')[0]?.replace(/^-/, '') ?? '')).toBe('d 0755 tend:tend');
  });

  it('keeps its state in /var/lib/tend, the default state_dir', () => {
    expect(settings('StateDirectory')).toEqual(['tend']);
    expect(defaultDaemonConfig.stateDir).toBe('/var/lib/tend');
    expect(settings('ConfigurationDirectory')).toEqual(['tend']);
  });

  it.each([
    ['User', 'tend'],
    ['Group', 'tend'],
    ['ProtectSystem', 'strict'],
    ['ProtectHome', 'yes'],
    ['PrivateTmp', 'yes'],
    ['NoNewPrivileges', 'yes'],
    ['CapabilityBoundingSet', ''],
    ['RestrictAddressFamilies', 'AF_INET AF_INET6 AF_UNIX'],
    ['SystemCallFilter', '@system-service'],
    ['Restart', 'on-failure'],
    ['RestartSec', '5s'],
    ['StartLimitIntervalSec', '10min'],
    ['StartLimitBurst', '5'],
  ])('sets %s=%s', (key, value) => {
    expect(settings(key)).toEqual([value]);
  });
});
