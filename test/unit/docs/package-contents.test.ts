import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * What `npm pack` puts in the tarball, as npm itself lists it: an `npm install -g` of it must carry what an
 * install needs besides the code (the licence, the unit and its user and directories, the example config,
 * the alert rules and dashboard, the example repo).
 */
const run = promisify(execFile);

async function packedFiles(): Promise<string[]> {
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { timeout: 120_000 });
  const [pack] = JSON.parse(stdout) as { files: { path: string }[] }[];
  return (pack?.files ?? []).map((file) => file.path);
}

describe('the npm package', () => {
  it('carries LICENSE, deploy/, systemd/ and the example repo', async () => {
    const files = await packedFiles();
    for (const wanted of [
      'LICENSE',
      'bin/tend.js',
      'deploy/alerts.yml',
      'deploy/grafana-dashboard.json',
      'deploy-repo-example/inventory.yml',
      'deploy-repo-example/services/api/spec.yml',
      'systemd/tend.service',
      'systemd/tend.sysusers',
      'systemd/tend.tmpfiles',
      'systemd/tend.yml',
      'schemas/daemon-config.schema.json',
    ]) {
      expect(files, wanted).toContain(wanted);
    }
    expect(files.filter((file) => file.startsWith('test/') || file.startsWith('src/'))).toEqual([]);
  });

  it('is licensed as its LICENSE file says', async () => {
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { license: string };
    expect(pkg.license).toBe('Apache-2.0');
    expect(await readFile('LICENSE', 'utf8')).toContain('Apache License\n                           Version 2.0, January 2004');
  });
});
