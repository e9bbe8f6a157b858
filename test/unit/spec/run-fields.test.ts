import { describe, expect, it } from 'vitest';

import { currentArtifactPath } from '../../../src/render/host-layout.js';
import type { SpecIssueCode } from '../../../src/spec/index.js';
import { ARTICLE_SPEC, SPEC_PATH, repoWith } from './fixture-repo.js';
import { loadIssues, loadValid, serviceNamed } from './load-files.js';

const SHA = 'ab'.repeat(32);

/** The article spec with a `run:` block of these lines (each indented under run). */
function specWithRun(lines: readonly string[]): string {
  return `${ARTICLE_SPEC}  run:\n${lines.map((line) => `    ${line}\n`).join('')}`;
}

/** The line (1-based) of `run:` itself or of the first run field whose key is `key`. */
function lineOf(spec: string, key: string): number {
  const index = spec.split('\n').findIndex((line) => line.startsWith(key === 'run' ? '  run:' : `    ${key}:`));
  if (index < 0) throw new Error(`no ${key} in the spec`);
  return index + 1;
}

async function runOf(lines: readonly string[]) {
  const { repo } = await loadValid(repoWith({ [SPEC_PATH]: specWithRun(lines) }));
  return serviceNamed(repo, 'api').run;
}

/** Each refused spec gives exactly one issue, with its own code, on the line of the field at fault. */
async function expectRefused(lines: readonly string[], code: SpecIssueCode, field: string): Promise<void> {
  const spec = specWithRun(lines);
  const issues = await loadIssues(repoWith({ [SPEC_PATH]: spec }));
  expect(issues).toEqual([expect.objectContaining({ code, file: SPEC_PATH, line: lineOf(spec, field) })]);
  expect(issues[0]?.col).toBeGreaterThanOrEqual(field === 'run' ? 3 : 5);
}

describe('run.package follows Debian package-name rules', () => {
  it.each(['nginx', 'libssl3', 'g++', 'libstdc++6', '0ad', 'python3.11', 'lib-foo+bar', 'ab'])('accepts %s', async (name) => {
    expect(await runOf([`package: "${name}"`])).toMatchObject({ kind: 'package', package: name });
  });

  it.each(['a', 'Nginx', '-foo', '.foo', '+foo', 'foo_bar', 'foo bar', 'nginx:amd64'])('refuses %s with E_PACKAGE_NAME', async (name) => {
    await expectRefused([`package: "${name}"`], 'E_PACKAGE_NAME', 'package');
  });
});

describe('run.version follows Debian policy: [epoch:]upstream[-revision]', () => {
  it.each(['1.22.1-9', '2:1.4.3-1', '1.0', '1.0~rc1-1', '1:2.3', '1.2-3-4', '1:2:3-1', '0.9+dfsg-1ubuntu2', '1.0-1~bpo12+1', '10:1'])('accepts %s', async (version) => {
    expect(await runOf(['package: nginx', `version: "${version}"`])).toEqual({ kind: 'package', package: 'nginx', version, argv: ['/usr/bin/api'] });
  });

  it.each([
    ['an upstream part that starts with a letter', 'v1.0'],
    ['an empty revision', '1.0-'],
    ['a colon without an epoch', '1.0:3'],
    ['an epoch that is not a number', 'x:1.0'],
    ['an empty epoch', ':1.0'],
    ['a blank', '1.0 beta'],
    ['an underscore', '1.0_1'],
    ['an upstream part after the epoch that starts with a letter', '2:v1'],
    ['a revision with a colon', '1.0-1:2'],
  ])('refuses %s (%s) with E_PACKAGE_VERSION', async (_, version) => {
    await expectRefused(['package: nginx', `version: "${version}"`], 'E_PACKAGE_VERSION', 'version');
  });

  it('refuses a version YAML reads as a number, saying to quote it', async () => {
    const spec = specWithRun(['package: nginx', 'version: 1.10']);
    const issues = await loadIssues(repoWith({ [SPEC_PATH]: spec }));
    expect(issues).toEqual([expect.objectContaining({ code: 'E_PACKAGE_VERSION', line: lineOf(spec, 'version'), message: expect.stringContaining('quotes') })]);
  });
});

describe('run.url: https, or http on loopback or with allow_http; sha256 required', () => {
  it('builds a url run that each host fetches by default, the program being the download', async () => {
    expect(await runOf(['url: https://artifacts.example.com/api/api-1.4.3', `sha256: ${SHA.toUpperCase()}`, 'command: ["--port", "8080"]'])).toEqual({
      kind: 'url',
      url: 'https://artifacts.example.com/api/api-1.4.3',
      sha256: SHA,
      downloadName: 'api-1.4.3',
      archive: undefined,
      fileName: 'api-1.4.3',
      fetch: 'host',
      credentials: undefined,
      argv: [currentArtifactPath('api', 'api-1.4.3'), '--port', '8080'],
    });
  });

  it('names a private store\'s credentials by secret, bearer or basic, with the line that names it', async () => {
    expect(await runOf(['url: https://store.example.com/api', `sha256: ${SHA}`, 'credentials: { bearer: store_token }'])).toMatchObject({
      credentials: { scheme: 'bearer', secret: 'store_token', where: { file: SPEC_PATH, line: expect.any(Number) } },
    });
    expect(await runOf(['url: https://store.example.com/api', `sha256: ${SHA}`, 'credentials: { basic: store_login }'])).toMatchObject({
      credentials: { scheme: 'basic', secret: 'store_login' },
    });
  });

  it('runs run.file from inside a tarball, or the file named like the service by default', async () => {
    expect(await runOf(['url: https://a.example.com/api-1.4.3.tar.gz', `sha256: ${SHA}`, 'file: bin/server', 'fetch: tend'])).toMatchObject({
      archive: 'tar.gz',
      downloadName: 'api-1.4.3.tar.gz',
      fileName: 'bin/server',
      fetch: 'tend',
      argv: [currentArtifactPath('api', 'bin/server')],
    });
    expect(await runOf(['url: https://a.example.com/api.tgz', `sha256: ${SHA}`])).toMatchObject({ archive: 'tar.gz', fileName: 'api' });
  });

  it.each([
    ['http to 127.0.0.1', ['url: http://127.0.0.1:8080/api']],
    ['http to 127.9.9.9', ['url: http://127.9.9.9/api']],
    ['http to localhost', ['url: http://localhost/api']],
    ['http to ::1', ['url: http://[::1]:9000/api']],
    ['http elsewhere with allow_http', ['url: http://store.lan/api', 'allow_http: true']],
    ['a query string', ['url: https://store.example.com/api?version=3']],
  ])('accepts %s', async (_, lines) => {
    expect(await runOf([...lines, `sha256: ${SHA}`])).toMatchObject({ kind: 'url' });
  });

  it.each([
    ['another scheme', ['url: ftp://store.example.com/api', `sha256: ${SHA}`], 'E_RUN_URL', 'url'],
    ['credentials in the URL', ['url: https://user:secret@store.example.com/api', `sha256: ${SHA}`], 'E_RUN_URL', 'url'],
    ['no file name', ['url: https://store.example.com/', `sha256: ${SHA}`], 'E_RUN_URL', 'url'],
    ['a fragment', ['url: https://store.example.com/api#latest', `sha256: ${SHA}`], 'E_RUN_URL', 'url'],
    ['an invalid URL', ['url: "https://exa mple.com/api"', `sha256: ${SHA}`], 'E_RUN_URL', 'url'],
    ['http to another host', ['url: http://store.lan/api', `sha256: ${SHA}`], 'E_RUN_URL_INSECURE', 'url'],
    ['http to another host with allow_http false', ['url: http://10.0.0.5/api', 'allow_http: false', `sha256: ${SHA}`], 'E_RUN_URL_INSECURE', 'url'],
    ['no sha256 (at run, which misses it)', ['url: https://store.example.com/api'], 'E_RUN_SHA256_MISSING', 'run'],
    ['a short sha256', ['url: https://store.example.com/api', 'sha256: abc123'], 'E_RUN_SHA256', 'sha256'],
    ['file with a url that is no tarball', ['url: https://store.example.com/api', `sha256: ${SHA}`, 'file: bin/api'], 'E_RUN_FILE', 'file'],
    ['file that leaves the tarball', ['url: https://store.example.com/api.tar', `sha256: ${SHA}`, 'file: ../etc/passwd'], 'E_RUN_FILE', 'file'],
    ['file without a url', ['file: bin/api'], 'E_RUN_FILE', 'file'],
    ['fetch that is neither host nor tend', ['url: https://store.example.com/api', `sha256: ${SHA}`, 'fetch: proxy'], 'E_RUN_FETCH', 'fetch'],
    ['fetch without a url', ['fetch: tend'], 'E_RUN_CONFLICT', 'fetch'],
    ['allow_http without a url', ['allow_http: true'], 'E_RUN_CONFLICT', 'allow_http'],
    ['credentials without a url', ['credentials: { bearer: store_token }'], 'E_RUN_CONFLICT', 'credentials'],
    ['credentials naming two secrets', ['url: https://store.example.com/api', `sha256: ${SHA}`, 'credentials: { bearer: a, basic: b }'], 'E_RUN_CREDENTIALS', 'credentials'],
    ['credentials naming no secret', ['url: https://store.example.com/api', `sha256: ${SHA}`, 'credentials: {}'], 'E_RUN_CREDENTIALS', 'credentials'],
  ] as const)('refuses %s', async (_, lines, code, field) => {
    await expectRefused(lines, code, field);
  });
});

describe('one thing to run: a package, an artifact or a url', () => {
  it.each([
    ['a package and a url', ['package: nginx', 'url: https://store.example.com/api'], 'url'],
    ['a package and an artifact', ['package: nginx', 'artifact: api'], 'artifact'],
    ['a package and a sha256', ['package: nginx', `sha256: ${SHA}`], 'sha256'],
    ['a package and fetch', ['package: nginx', 'fetch: host'], 'fetch'],
    ['an artifact and a url', ['artifact: api', 'url: https://store.example.com/api', `sha256: ${SHA}`], 'artifact'],
    ['a version without a package', ['url: https://store.example.com/api', `sha256: ${SHA}`, 'version: "1.0-1"'], 'version'],
  ] as const)('refuses %s with E_RUN_CONFLICT', async (_, lines, field) => {
    const spec = specWithRun(lines);
    const issues = await loadIssues(repoWith({ [SPEC_PATH]: spec }));
    expect(issues).toContainEqual(expect.objectContaining({ code: 'E_RUN_CONFLICT', file: SPEC_PATH, line: lineOf(spec, field) }));
    expect(issues.every((issue) => issue.code !== 'E_SCHEMA')).toBe(true);
  });
});
