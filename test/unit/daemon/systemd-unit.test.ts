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
 * root holding systemd's own units and an executable at /usr/bin/tend (so ExecStart= resolves), and
 * `security --offline` for systemd's own rating of the sandbox.
 */
const run = promisify(execFile);
const SYSTEMD_UNITS = '/usr/lib/systemd/system';
const UNIT = new URL('../../../systemd/tend.service', import.meta.url);
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
  await mkdir(join(root, 'usr/bin'), { recursive: true });
  await writeFile(join(root, 'usr/bin/tend'), '#!/bin/sh\nexit 0\n');
  await chmod(join(root, 'usr/bin/tend'), 0o755);
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

  it('runs tend with the default config path', () => {
    expect(settings('ExecStart')).toEqual([`/usr/bin/tend run --config ${DEFAULT_CONFIG_PATH}`]);
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
