import { execFile } from 'node:child_process';
import { chmod, copyFile, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentArtifactPath, maskedSecrets, renderHost, renderService, type RenderedService } from '../../../src/render/index.js';
import { directoryReader, loadRepo } from '../../../src/spec/index.js';
import type { RepoSpec, ServiceSpec } from '../../../src/spec/model.js';
import { articleService, defaultUnit, env, host, secret, service, text, timer } from './fixtures.js';

/**
 * The real systemd 252 parser on every unit we render. `--root` points systemd at a temporary tree that
 * holds systemd's own units (so sysinit.target and friends resolve), our files, and an executable at every
 * ExecStart= program path; verify then checks each setting and the executables. Any line it prints about
 * our units is a failure: it reports bad settings, unknown escapes and unbalanced quotes as warnings with
 * exit code 0.
 */
const run = promisify(execFile);
const SYSTEMD_UNITS = '/usr/lib/systemd/system';

const services: ServiceSpec[] = [
  articleService(),
  service({
    name: 'worker',
    description: 'Worker: 100% of "jobs" \\ and $HOME',
    after: ['api', 'not-on-this-host'],
    ports: [80, 9090],
    limits: { memBytes: 1536 * 1024 ** 2, noFile: 65_536, cpuPercent: 12.5 },
    run: {
      kind: 'artifact',
      path: 'services/worker/worker',
      fileName: 'worker',
      sha256: 'b'.repeat(64),
      argv: [currentArtifactPath('worker', 'worker'), '--name', 'hello world', 'it\'s "quoted"', 'back\\slash', '100%', '$HOME', '${X}', ';', '', 'Grüße'],
    },
    environment: [env('GREETING', 3, text('hi "there" `x` $y \\ z # not a comment')), env('TOKEN', 4, secret('token'))],
    timers: [
      timer({ name: 'nightly', onCalendar: '*-*-* 03:00:00', argv: [currentArtifactPath('worker', 'worker'), 'nightly', '--at', '%H:%M'] }),
      timer({ name: 'every-5', onCalendar: '*-*-* *:00/5:00', argv: [currentArtifactPath('worker', 'worker'), 'tick'], description: '' }),
    ],
  }),
  service({ name: 'pkg', run: { kind: 'package', package: 'pkg', version: '1.0', argv: ['/usr/bin/pkg', '--serve'] }, environment: [] }),
  service({
    name: 'fixed',
    ports: [80],
    run: { kind: 'package', package: 'fixed', version: undefined, argv: ['/usr/bin/fixed'] },
    environment: [env('ZONE', 3, { kind: 'host-var', name: 'zone' }), env('NODE', 4, { kind: 'host-name' })],
    hostDependent: true,
    unit: {
      ...defaultUnit('fixed'),
      user: 'www-data',
      group: 'www-data',
      directories: { state: ['fixed', 'fixed/uploads'], cache: ['fixed'], logs: ['fixed'], runtime: ['fixed'], configuration: ['fixed'] },
      readWritePaths: ['/srv/fixed', '/var/spool/fixed:x@y+z,w'],
      capabilities: ['CAP_NET_BIND_SERVICE', 'CAP_NET_RAW', 'CAP_CHECKPOINT_RESTORE', 'CAP_BPF', 'CAP_PERFMON'],
      workingDirectory: '/var/lib/fixed',
      type: 'notify',
      killSignal: 'SIGINT',
      timeoutStop: 90_500,
      directives: [
        ['IOSchedulingClass', 'idle'],
        ['IOSchedulingPriority', '7'],
        ['KillMode', 'mixed'],
        ['LimitCORE', '0'],
        ['LimitMEMLOCK', 'infinity'],
        ['LimitNPROC', '512'],
        ['LimitSTACK', '8388608'],
        ['Nice', '-5'],
        ['OOMScoreAdjust', '-1000'],
        ['RestartSec', '5s'],
        ['SyslogIdentifier', 'fixed.app-1'],
        ['TasksMax', 'infinity'],
        ['TimeoutStartSec', '1h30m'],
        ['UMask', '0027'],
      ],
    },
    timers: [timer({ name: 'sweep', argv: ['/usr/bin/fixed', 'sweep'] })],
  }),
];

async function verify(root: string, units: readonly string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run('systemd-analyze', ['verify', `--root=${root}`, '--man=no', ...units], {
      env: { ...process.env, SYSTEMD_LOG_COLOR: '0', SYSTEMD_PAGER: '' },
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number | string; stdout?: string; stderr?: string };
    if (failed.code === 'ENOENT') throw new Error('systemd-analyze is not installed: apt-get install systemd');
    return { code: typeof failed.code === 'number' ? failed.code : -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

async function writeExecutable(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, '#!/bin/sh\nexit 0\n');
  await chmod(path, 0o755);
}

let root: string;
let rendered: RenderedService[];

/** The real verifier is the proof, so a machine without it gets it installed rather than a skipped test. */
async function ensureSystemdAnalyze(): Promise<void> {
  const present = await run('systemd-analyze', ['--version']).then(() => true, () => false);
  if (present) return;
  await run('apt-get', ['update', '-qq'], { timeout: 300_000 });
  await run('apt-get', ['install', '-y', '-qq', 'systemd'], { timeout: 300_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

beforeAll(async () => {
  await ensureSystemdAnalyze();
  root = await mkdtemp(join(tmpdir(), 'tend-verify-'));
  await cp(SYSTEMD_UNITS, join(root, SYSTEMD_UNITS), { recursive: true, verbatimSymlinks: true });
  const names = new Set(services.map((s) => s.name));
  const zoned = { ...host, vars: new Map([['zone', 'eu-1']]) };
  rendered = services.map((spec) => renderService({ service: spec, host: zoned, servicesOnHost: names, secrets: maskedSecrets }));
  for (const file of rendered.flatMap((r) => r.files)) {
    await mkdir(dirname(join(root, file.path)), { recursive: true });
    await writeFile(join(root, file.path), file.content, { mode: file.mode });
  }
  const programs = services.flatMap((s) => [s.run.argv[0], ...s.timers.map((t) => t.argv[0])]);
  for (const program of new Set(programs)) if (program !== undefined) await writeExecutable(join(root, program));
}, 600_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function unitNames(): string[] {
  return rendered.flatMap((r) => r.files).filter((f) => f.kind !== 'env').map((f) => f.path.split('/').at(-1) ?? '');
}

describe('systemd-analyze verify', () => {
  it('accepts every rendered unit without a single warning', async () => {
    const units = unitNames();
    expect(units).toHaveLength(10);
    const result = await verify(root, units);
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  });

  it.each([
    ['unbalanced quoting', 'ExecStart=/usr/bin/pkg "unbalanced', 'Unbalanced quoting'],
    ['an unknown escape', 'ExecStart=/usr/bin/pkg "a\\qb"', 'unknown escape'],
    ['an unknown setting', 'ExecStart=/usr/bin/pkg\nMemoryMaxx=1G', "Unknown key 'MemoryMaxx'"],
    ['a bad size', 'ExecStart=/usr/bin/pkg\nMemoryMax=lots', 'Invalid memory limit'],
    ['a Nice out of range', 'ExecStart=/usr/bin/pkg\nNice=40', 'Nice priority out of range'],
    ['a state directory that leaves /var/lib', 'ExecStart=/usr/bin/pkg\nStateDirectory=../x', 'path is not normalized'],
  ])('would report %s in a unit we broke by hand (the check can fail)', async (_name, service, expected) => {
    await writeFile(join(root, 'etc/systemd/system/broken.service'), `[Service]\n${service}\n`);
    const result = await verify(root, ['broken.service']);
    expect(result.output).toContain(expected);
  });

  it('would report a program that is not executable on the host', async () => {
    const path = join(root, currentArtifactPath('api', 'api'));
    await chmod(path, 0o644);
    try {
      const result = await verify(root, ['api.service']);
      expect(result.output).toContain('is not executable');
    } finally {
      await chmod(path, 0o755);
    }
  });
});

describe('systemd-analyze verify on deploy-repo-example', () => {
  /** Each host's files under a root of its own, as the host would have them. */
  const roots = new Map<string, string>();
  let repo: RepoSpec;

  beforeAll(async () => {
    const loaded = await loadRepo(directoryReader(join(import.meta.dirname, '../../../deploy-repo-example')));
    if (!loaded.ok) throw new Error(`deploy-repo-example does not load: ${JSON.stringify(loaded.issues)}`);
    repo = loaded.repo;
    for (const host of repo.inventory.hosts) {
      const hostRoot = await mkdtemp(join(tmpdir(), `tend-verify-${host.name}-`));
      roots.set(host.name, hostRoot);
      await cp(SYSTEMD_UNITS, join(hostRoot, SYSTEMD_UNITS), { recursive: true, verbatimSymlinks: true });
      for (const { files } of renderHost(repo, host, maskedSecrets)) {
        for (const file of files) {
          await mkdir(dirname(join(hostRoot, file.path)), { recursive: true });
          await writeFile(join(hostRoot, file.path), file.content, { mode: file.mode });
        }
      }
      for (const spec of repo.services) {
        if (spec.run.kind !== 'artifact') continue;
        // The real script, with the mode it has in git, where the unit expects the current release.
        const target = join(hostRoot, currentArtifactPath(spec.name, spec.run.fileName));
        await mkdir(dirname(target), { recursive: true });
        await copyFile(join(import.meta.dirname, '../../..', 'deploy-repo-example', spec.run.path), target);
      }
    }
  });

  afterAll(async () => {
    for (const hostRoot of roots.values()) await rm(hostRoot, { recursive: true, force: true });
  });

  it('accepts every unit each host of the example gets, run from the real scripts', async () => {
    let verified = 0;
    for (const host of repo.inventory.hosts) {
      const units = renderHost(repo, host, maskedSecrets)
        .flatMap((rendered) => rendered.files)
        .filter((file) => file.kind !== 'env')
        .map((file) => file.path.split('/').at(-1) ?? '');
      const result = await verify(roots.get(host.name) ?? '', units);
      expect(result.output, host.name).toBe('');
      expect(result.code, host.name).toBe(0);
      verified += units.length;
    }
    // web-1 and web-2: api, gateway, queue; batch-1: reports with its timer and the timer's job.
    expect(verified).toBe(9);
  });

  it('uses the unit options and host vars it shows, so the check covers them', () => {
    const files = repo.inventory.hosts.flatMap((host) => renderHost(repo, host, maskedSecrets).flatMap((rendered) => rendered.files));
    const text = files.map((file) => file.content).join('\n');
    expect(text).toContain('User=www-data\n');
    expect(text).toContain('CacheDirectory=reports\n');
    expect(text).toContain('TimeoutStopSec=5s\n');
    expect(text).toContain('IOSchedulingClass=idle\n');
    expect(text).toContain('ZONE="eu-2"\n');
  });
});
