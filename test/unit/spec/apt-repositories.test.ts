import { describe, expect, it } from 'vitest';

import type { SpecIssueCode } from '../../../src/spec/index.js';
import { APT_KEY_ARMORED, APT_KEY_BINARY } from './apt-key-fixture.js';
import { repoWith } from './fixture-repo.js';
import type { RepoFile } from './fixture-repo.js';
import { loadIssues, loadValid } from './load-files.js';

/** tend.yml with one apt repository of these lines (indented under the list item). */
function settingsWith(lines: readonly string[]): string {
  return `apt_repositories:\n  - ${lines.join('\n    ')}\n`;
}

const INTERNAL = ['name: internal', 'uri: https://apt.example.com/debian', 'suite: bookworm', 'components: [main, contrib]', 'signing_key: apt/internal.asc'];

async function repositoriesOf(settings: string, extra: Readonly<Record<string, RepoFile>> = { 'apt/internal.asc': APT_KEY_ARMORED }) {
  const { repo } = await loadValid(repoWith({ 'tend.yml': settings, ...extra }));
  return repo.settings.aptRepositories;
}

describe('tend.yml apt_repositories', () => {
  it('reads a repository and its armored key, dearmored to the bytes `gpg --export` writes', async () => {
    expect(await repositoriesOf(settingsWith(INTERNAL))).toEqual([
      {
        name: 'internal',
        uri: 'https://apt.example.com/debian',
        suite: 'bookworm',
        components: ['main', 'contrib'],
        keyring: APT_KEY_BINARY,
        keyPath: 'apt/internal.asc',
        trusted: false,
        source: { file: 'tend.yml', line: 2, col: 5 },
      },
    ]);
  });

  it('takes a binary key as it is', async () => {
    const [repository] = await repositoriesOf(settingsWith([...INTERNAL.slice(0, 4), 'signing_key: apt/internal.gpg']), { 'apt/internal.gpg': APT_KEY_BINARY });
    expect(repository?.keyring).toEqual(APT_KEY_BINARY);
  });

  it('accepts a flat repository without components, and a trusted one without a key', async () => {
    const flat = await repositoriesOf(settingsWith(['name: flat', 'uri: http://10.0.0.5/repo', 'suite: ./', 'signing_key: apt/internal.asc']));
    expect(flat[0]).toMatchObject({ suite: './', components: [] });
    const trusted = await repositoriesOf(settingsWith(['name: lab', 'uri: http://10.0.0.5/repo', 'suite: lab', 'components: [main]', 'trusted: true']), {});
    expect(trusted[0]).toMatchObject({ trusted: true, keyring: undefined });
  });

  it('has no repositories without tend.yml or without the field', async () => {
    expect((await loadValid(repoWith({}))).repo.settings.aptRepositories).toEqual([]);
    expect(await repositoriesOf('concurrency: 4\n', {})).toEqual([]);
  });

  it.each<[string, readonly string[], Readonly<Record<string, RepoFile>>, SpecIssueCode, number]>([
    ['no key and not trusted', INTERNAL.slice(0, 4), {}, 'E_APT_KEY', 2],
    ['trusted: false and no key', [...INTERNAL.slice(0, 4), 'trusted: false'], {}, 'E_APT_KEY', 2],
    ['a key file that is not in the commit', INTERNAL, {}, 'E_APT_KEY', 6],
    ['a key file that is not a key', INTERNAL, { 'apt/internal.asc': 'hello\n' }, 'E_APT_KEY', 6],
    ['an armored private key', INTERNAL, { 'apt/internal.asc': '-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlFgE\n-----END PGP PRIVATE KEY BLOCK-----\n' }, 'E_APT_KEY', 6],
    ['a binary private key', INTERNAL, { 'apt/internal.asc': new Uint8Array([0x95, 0x00, 0x01]) }, 'E_APT_KEY', 6],
    ['a key path that leaves the repo', [...INTERNAL.slice(0, 4), 'signing_key: apt/../../etc/key.gpg'], {}, 'E_APT_KEY', 6],
    ['a key that is a symlink', INTERNAL, { 'apt/internal.asc': { symlink: '/etc/passwd' } }, 'E_APT_KEY', 6],
    ['credentials in the URI', ['name: internal', 'uri: https://user:secret@apt.example.com/debian', ...INTERNAL.slice(2)], { 'apt/internal.asc': APT_KEY_ARMORED }, 'E_APT_REPOSITORY', 3],
    ['a URI that is not http(s)', ['name: internal', 'uri: ftp://apt.example.com/debian', ...INTERNAL.slice(2)], { 'apt/internal.asc': APT_KEY_ARMORED }, 'E_APT_REPOSITORY', 3],
    ['a name with capitals', ['name: Internal', ...INTERNAL.slice(1)], { 'apt/internal.asc': APT_KEY_ARMORED }, 'E_APT_REPOSITORY', 2],
    ['components with a flat suite', ['name: internal', 'uri: https://apt.example.com/debian', 'suite: ./', 'components: [main]', 'signing_key: apt/internal.asc'], { 'apt/internal.asc': APT_KEY_ARMORED }, 'E_APT_REPOSITORY', 5],
    ['no components with a named suite', ['name: internal', 'uri: https://apt.example.com/debian', 'suite: bookworm', 'signing_key: apt/internal.asc'], { 'apt/internal.asc': APT_KEY_ARMORED }, 'E_APT_REPOSITORY', 4],
  ])('refuses %s', async (_, lines, extra, code, line) => {
    const issues = await loadIssues(repoWith({ 'tend.yml': settingsWith(lines), ...extra }));
    expect(issues).toEqual([expect.objectContaining({ code, file: 'tend.yml', line })]);
    for (const issue of issues) expect(`${issue.message} ${issue.hint ?? ''}`).not.toContain('secret@');
  });

  it('refuses a name used twice, at the second', async () => {
    const settings = `apt_repositories:\n  - ${INTERNAL.join('\n    ')}\n  - ${INTERNAL.join('\n    ')}\n`;
    const issues = await loadIssues(repoWith({ 'tend.yml': settings, 'apt/internal.asc': APT_KEY_ARMORED }));
    expect(issues).toEqual([expect.objectContaining({ code: 'E_APT_REPOSITORY', file: 'tend.yml', line: 7, message: expect.stringContaining('apt_repositories[0]') })]);
  });
});
