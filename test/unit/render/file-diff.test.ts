import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { planDiffs } from '../../../src/cli/plan-diff.js';
import type { ObservedHost, RemoteRunner, RunResult } from '../../../src/hosts/index.js';
import { preparePass } from '../../../src/pass/index.js';
import { maskHostEnvFile, OLD_SECRET_TEXT, REMOVED_VALUE_TEXT, unifiedDiff, type SecretSource } from '../../../src/render/index.js';
import { directoryReader, loadRepo } from '../../../src/spec/index.js';

/**
 * `tend plan --diff`: the unified diff (the same text as GNU `diff -u`) and the masking of the host's env
 * file by the keys that hold secrets in the new render. A secret value, old or new, never appears.
 */
const EXAMPLE = join(resolve(fileURLToPath(new URL('../../..', import.meta.url))), 'deploy-repo-example');

describe('unifiedDiff', () => {
  it('is empty for equal texts', () => {
    expect(unifiedDiff('a\nb\n', 'a\nb\n', { old: 'x', new: 'y' })).toBe('');
  });

  it('prints a changed line as -old then +new, with three lines of context, as diff -u', () => {
    const old = 'a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\n';
    const next = 'a\nB\nc\nd\ne\nf\ng\nh\ni\nk\nl\n';
    // GNU diff 3.8's `diff -u --label old --label new` of the same two files.
    expect(unifiedDiff(old, next, { old: 'old', new: 'new' })).toBe(
      ['--- old', '+++ new', '@@ -1,5 +1,5 @@', ' a', '-b', '+B', ' c', ' d', ' e', '@@ -7,5 +7,5 @@', ' g', ' h', ' i', '-j', ' k', '+l', ''].join('\n'),
    );
  });

  it('joins changes closer than twice the context into one hunk', () => {
    const old = Array.from({ length: 12 }, (_, i) => `${i + 1}`).join('\n') + '\n';
    const next = old.replace('3\n', 'three\n').replace('9\n', 'nine\n');
    expect(unifiedDiff(old, next, { old: 'o', new: 'n' }).match(/^@@/gm)).toHaveLength(1);
  });

  it('shows a file the host lacks as added from /dev/null', () => {
    expect(unifiedDiff('', 'x\ny\n', { old: undefined, new: 'repo:/f' })).toBe('--- /dev/null\n+++ repo:/f\n@@ -0,0 +1,2 @@\n+x\n+y\n');
  });
});

describe('maskHostEnvFile', () => {
  const resolved = '# managed by tend\nAPI_PORT=8080\nAPI_TOKEN=s3cr3t-new\nDSN=postgres://u:pw-new@db/x\n';
  const masked = '# managed by tend\nAPI_PORT=8080\nAPI_TOKEN=<secret:api_token>\nDSN=postgres://u:<secret:db_pw>@db/x\n';

  it('shows a secret the host already has as its masked form, so the line is unchanged', () => {
    const host = '# managed by tend\nAPI_PORT=8080\nAPI_TOKEN=s3cr3t-new\nDSN=postgres://u:pw-new@db/x\n';
    expect(maskHostEnvFile(host, resolved, masked)).toBe(masked);
  });

  it('never shows a secret the host has with another value, nor a value whose key the spec dropped', () => {
    const host = '# managed by tend\nAPI_PORT=9090\nAPI_TOKEN=s3cr3t-OLD\nDSN=postgres://u:pw-OLD@db/x\nOLD_PASSWORD=hunter2\n';
    const shown = maskHostEnvFile(host, resolved, masked);
    expect(shown).toBe(`# managed by tend\nAPI_PORT=9090\nAPI_TOKEN=${OLD_SECRET_TEXT}\nDSN=${OLD_SECRET_TEXT}\nOLD_PASSWORD=${REMOVED_VALUE_TEXT}\n`);
    const diff = unifiedDiff(shown, masked, { old: 'web-1:/env', new: 'repo:/env' });
    for (const value of ['s3cr3t', 'pw-OLD', 'pw-new', 'hunter2']) expect(diff).not.toContain(value);
    expect(diff).toContain('-API_PORT=9090\n');
    expect(diff).toContain('+API_PORT=8080\n');
    expect(diff).toContain('+API_TOKEN=<secret:api_token>\n');
  });
});

describe('planDiffs over the example repo', () => {
  const HEADER = '# Managed by tend. Local edits are overwritten; change the deploy repo instead.\n# tend-service: api\n';
  const token = 'tok-9f8e7d-new';
  const secrets: SecretSource = { description: 'a test table', read: (name) => Promise.resolve(name === 'api_token' ? token : undefined) };

  it('reads each changed file from its host and shows the env file with every secret masked', async () => {
    const loaded = await loadRepo(directoryReader(EXAMPLE));
    if (!loaded.ok) throw new Error('the example repo must load');
    const only = new Set(['api']);
    const hosts = new Set(['web-1']);
    const observe = (list: readonly { name: string }[]) =>
      Promise.resolve(new Map<string, ObservedHost>(list.map((host) => [host.name, { host: host.name, reachable: true, services: new Map(), foreignUnits: [] }])));
    const pass = await preparePass(loaded.repo, secrets, { observe }, undefined, only, hosts);
    const asked: string[][] = [];
    const runner: RemoteRunner = {
      run: (_host, argv): Promise<RunResult> => {
        asked.push([...argv]);
        const path = argv[4] ?? '';
        // The host has an older env file: another port and the token before its rotation.
        if (path.endsWith('.env')) return Promise.resolve({ code: 0, stdout: `${HEADER}API_PORT="9090"\nAPI_TOKEN="tok-OLD-1234"\n`, stderr: '' });
        return Promise.resolve({ code: 66, stdout: '', stderr: '' });
      },
    };
    const diffs = await planDiffs(pass.planResult.plan, pass, runner);
    const env = diffs.find((one) => one.path.endsWith('.env'));
    expect(env?.diff).toBe(
      [
        '--- web-1:/etc/tend/env/api.env',
        '+++ repo:/etc/tend/env/api.env',
        '@@ -1,4 +1,4 @@',
        ' # Managed by tend. Local edits are overwritten; change the deploy repo instead.',
        ' # tend-service: api',
        '-API_PORT="9090"',
        `-API_TOKEN=${OLD_SECRET_TEXT}`,
        '+API_PORT="8080"',
        '+API_TOKEN="<secret:api_token>"',
        '',
      ].join('\n'),
    );
    const unit = diffs.find((one) => one.path.endsWith('.service'));
    expect(unit?.diff).toMatch(/^--- \/dev\/null\n\+\+\+ repo:\/etc\/systemd\/system\/api\.service\n/);
    const all = JSON.stringify(diffs);
    expect(all).not.toContain(token);
    expect(all).not.toContain('tok-OLD-1234');
    // One read per changed file, each a bounded read with the path as a parameter, never in the script.
    expect(asked).toHaveLength(diffs.length);
    for (const argv of asked) expect(argv.slice(0, 2)).toEqual(['sh', '-c']);
  });

  it('shows a file a step deletes against /dev/null, a deleted env file with no value at all', async () => {
    const loaded = await loadRepo(directoryReader(EXAMPLE));
    if (!loaded.ok) throw new Error('the example repo must load');
    const unit = { activeState: 'active', subState: 'running', invocationId: 'a'.repeat(32), nRestarts: 0, needDaemonReload: false, mainPid: 7, unitFileState: 'enabled' };
    const legacy = { service: 'legacy', files: new Map([['/etc/systemd/system/legacy.service', 'a'.repeat(64)], ['/etc/tend/env/legacy.env', 'b'.repeat(64)]]), currentRelease: undefined, releases: [], unit };
    const observe = (list: readonly { name: string }[]) =>
      Promise.resolve(new Map<string, ObservedHost>(list.map((host) => [host.name, { host: host.name, reachable: true, services: new Map([['legacy', legacy]]), foreignUnits: [] }])));
    // Pruning on, as in a tend.yml with `prune: { enabled: true }`: legacy on every host is deleted.
    const repo = { ...loaded.repo, settings: { ...loaded.repo.settings, prune: { enabled: true, maxFraction: 1 } } };
    const pass = await preparePass(repo, secrets, { observe });
    const legacySecret = 'legacy-db-pw-0042';
    const onHost: Record<string, string> = {
      '/etc/systemd/system/legacy.service': `${HEADER.replace('api', 'legacy')}[Service]\nExecStart=/usr/bin/legacy\n`,
      '/etc/tend/env/legacy.env': `${HEADER.replace('api', 'legacy')}PORT="7000"\nDB_PASSWORD="${legacySecret}"\n`,
    };
    const runner: RemoteRunner = {
      run: (_host, argv): Promise<RunResult> => {
        const text = onHost[argv[4] ?? ''];
        return Promise.resolve(text === undefined ? { code: 66, stdout: '', stderr: '' } : { code: 0, stdout: text, stderr: '' });
      },
    };
    const diffs = (await planDiffs(pass.planResult.plan, pass, runner)).filter((one) => one.service === 'legacy' && one.host === 'web-1');
    expect(diffs.map((one) => one.path)).toEqual(['/etc/systemd/system/legacy.service', '/etc/tend/env/legacy.env']);
    expect(diffs[0]?.diff).toBe(
      ['--- web-1:/etc/systemd/system/legacy.service', '+++ /dev/null', '@@ -1,4 +0,0 @@', ...onHost['/etc/systemd/system/legacy.service']!.trimEnd().split('\n').map((line) => `-${line}`), ''].join('\n'),
    );
    expect(diffs[1]?.diff).toContain(`-PORT=${REMOVED_VALUE_TEXT}\n-DB_PASSWORD=${REMOVED_VALUE_TEXT}\n`);
    expect(JSON.stringify(diffs)).not.toContain(legacySecret);
    expect(JSON.stringify(diffs)).not.toContain('7000');
  });
});
