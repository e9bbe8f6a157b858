import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTend, runTend } from '../../support/tend-cli.js';
import { ARTICLE_SPEC, SPEC_PATH, repoWith, writeRepo } from '../spec/fixture-repo.js';
import { hostileCases } from '../spec/hostile-corpus.js';
import { initRepo } from '../source/scratch-git.js';

/** The hostile corpus again, through the real binary a developer's CI runs: exit codes and output, not the API. */

const ISSUE_LINE = /^(\S+):(\d+):(\d+): .+ \((E_[A-Z0-9_]+)\)$/;
/** Long enough for any machine; a case that takes longer hangs, and a hang is the failure being tested. */
const HANG_MS = 30_000;
const roots: string[] = [];

beforeAll(async () => {
  await buildTend();
}, 300_000);

afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

describe('the tend binary: validate, render, help', () => {
  it('accepts deploy-repo-example with exit 0', async () => {
    const run = await runTend(['validate', 'deploy-repo-example']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('valid (4 services, 3 hosts, 2 groups)');
  });

  it('prints --help with the exit codes and exits 0', async () => {
    const run = await runTend(['validate', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Exit codes:\n\s+0 .*valid.*\n\s+1 .*invalid.*\n\s+2 .*usage/);
  });

  it.each(['validate', 'render', 'plan', 'apply'])('tend %s --help prints usage, options and exit codes', async (command) => {
    const run = await runTend([command, '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^Usage: tend ${command}`));
    expect(run.stdout).toContain('Exit codes:');
  });

  it('renders the article-style spec of the example with LimitNOFILE=10000 and MemoryMax=1G, secrets masked', async () => {
    const run = await runTend(['render', 'api', '--host', 'web-1', 'deploy-repo-example']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^LimitNOFILE=10000$/m);
    expect(run.stdout).toMatch(/^MemoryMax=1G$/m);
    expect(run.stdout).toContain('API_TOKEN="<secret:api_token>"');
  });

  it('prints the version of package.json with --version, the one tend_build_info exports', async () => {
    const { version } = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    const run = await runTend(['--version']);
    expect(run).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it('exits 2 on an unknown option', async () => {
    const run = await runTend(['validate', '--frobnicate']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('E_USAGE');
  });

  it.each(hostileCases.map((hostile) => [hostile.name, hostile] as const))(
    'refuses %s with exit 1, file:line:col and a code, and no stack trace',
    async (_, hostile) => {
      const root = await mkdtemp(join(tmpdir(), 'tend-hostile-cli-'));
      roots.push(root);
      await writeRepo(root, hostile.files);
      const run = await runTend(['validate', root], {}, HANG_MS);
      expect(run.code, run.stderr).toBe(1);
      const issueLines = run.stderr.split('\n').filter((line) => ISSUE_LINE.test(line));
      expect(issueLines.length, run.stderr).toBeGreaterThan(0);
      const codes = issueLines.map((line) => ISSUE_LINE.exec(line)?.[4]);
      expect(codes).toContain(hostile.code);
      expect(run.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
      expect(run.stdout).toBe('');
    },
  );

  it('reports the same issues as JSON under --json', async () => {
    const hostile = hostileCases[0];
    if (hostile === undefined) throw new Error('empty corpus');
    const root = await mkdtemp(join(tmpdir(), 'tend-hostile-cli-'));
    roots.push(root);
    await writeRepo(root, hostile.files);
    const run = await runTend(['validate', '--json', root]);
    expect(run.code).toBe(1);
    const json = JSON.parse(run.stdout) as { ok: boolean; issues: { code: string; line: number; col: number }[] };
    expect(json.ok).toBe(false);
    expect(json.issues.map((issue) => issue.code)).toContain(hostile.code);
  });
});

describe('the tend binary: run', () => {
  it('exits 1 with a config error naming `listen` and the address when the port is taken, not as a bug in tend', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tend-run-listen-'));
    roots.push(root);
    await initRepo(join(root, 'repo'));
    await mkdir(join(root, 'state'));
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const address = holder.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const run = await runTend(['run', '--repo-path', join(root, 'repo'), '--state-dir', join(root, 'state'), '--listen', `127.0.0.1:${port}`], {}, HANG_MS);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toContain(`error: listen 127.0.0.1:${port} is already in use (E_CONFIG_LISTEN)`);
      expect(run.stderr).toMatch(/hint: .*another `listen`.*stop/);
      expect(run.stderr).not.toContain('E_INTERNAL');
      expect(run.stderr).not.toContain('bug in tend');
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });
});

describe('the tend binary: run --check-config', () => {
  it('exits 0 with a summary for a valid config, and starts nothing: no state dir, no listen, no fetch', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tend-check-config-'));
    roots.push(root);
    // The listen port is held and the git server does not exist: a run that bound or fetched would fail.
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const address = holder.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const state = join(root, 'state');
    const config = join(root, 'config.yml');
    await writeFile(config, `source:\n  url: http://127.0.0.1:1/deploy.git\n  branch: prod\nstate_dir: ${state}\nlisten: 127.0.0.1:${port}\n`);
    try {
      const run = await runTend(['run', '--config', config, '--check-config'], {}, HANG_MS);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toBe(`config OK: follows http://127.0.0.1:1/deploy.git branch prod, state in ${state}, listens on 127.0.0.1:${port}\n`);
      expect(run.stderr).toBe('');
      expect(existsSync(state)).toBe(false);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it('exits 1 naming the bad field at its line, without starting', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tend-check-config-'));
    roots.push(root);
    const state = join(root, 'state');
    const config = join(root, 'config.yml');
    await writeFile(config, `source:\n  url: http://127.0.0.1:1/deploy.git\nstate_dir: ${state}\npoll:\n  interval: soon\n`);
    const run = await runTend(['run', '--config', config, '--check-config'], {}, HANG_MS);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`${config}:5:`);
    expect(run.stderr).toContain('poll.interval');
    expect(existsSync(state)).toBe(false);
  });
});

describe('the tend binary: render --monitoring', () => {
  async function repoWithMetrics(): Promise<string> {
    const root = await mkdtemp(join(tmpdir(), 'tend-render-monitoring-'));
    roots.push(root);
    await writeRepo(root, repoWith({ [SPEC_PATH]: `${ARTICLE_SPEC}  metrics_port: 9100\n` }));
    return root;
  }
  const targets = [
    { targets: ['10.78.0.11:9100'], labels: { service: 'api', group: 'web', host: 'web-1' } },
    { targets: ['10.78.0.12:9100'], labels: { service: 'api', group: 'web', host: 'web-2' } },
  ];

  it('prints each service file_sd target file under a header naming it', async () => {
    const run = await runTend(['render', '--monitoring', await repoWithMetrics()]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(`# file_sd/api.json\n${JSON.stringify(targets, null, 2)}\n`);
  });

  it('prints an object keyed by service with --json', async () => {
    const run = await runTend(['render', '--monitoring', '--json', await repoWithMetrics()]);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ api: targets });
  });

  it('refuses --monitoring with --host as a usage error', async () => {
    const run = await runTend(['render', '--monitoring', '--host', 'web-1', await repoWithMetrics()]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--monitoring cannot be combined with --host');
  });
});
