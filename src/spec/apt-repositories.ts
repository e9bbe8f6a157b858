import type { Issue } from '../errors/index.js';
import { specIssue } from './issue-codes.js';
import type { AptRepository } from './model.js';
import { readOpenPgpPublicKey } from './openpgp-key.js';
import type { RawSettingsFile } from './raw-files.js';
import type { RepoReader } from './repo-reader.js';
import type { YamlFile } from './yaml-document.js';

/**
 * tend.yml's `apt_repositories` that passed the schema -> the repositories hosts get, with each signing key
 * read from the commit and dearmored. The rules the schema cannot say: unique names, a URI without
 * credentials, components exactly when the suite is not flat, and a key file that is a public key.
 */

/** A keyring is a few kilobytes; a megabyte is not a key. */
const MAX_KEY_BYTES = 1024 * 1024;

const REPOSITORY_HINT = 'Give each repository a unique name, an http(s) URI without credentials, a suite, and components unless the suite ends with /.';

export async function buildAptRepositories(doc: YamlFile | undefined, reader: RepoReader): Promise<{ repositories: AptRepository[]; issues: Issue[] }> {
  const raw = ((doc?.value ?? {}) as RawSettingsFile).apt_repositories ?? [];
  const repositories: AptRepository[] = [];
  const issues: Issue[] = [];
  if (doc === undefined) return { repositories, issues };
  const seen = new Map<string, number>();
  for (const [index, repo] of raw.entries()) {
    const base = `/apt_repositories/${index}`;
    const field = `apt_repositories[${index}]`;
    const problems = issues.length;
    const first = seen.get(repo.name);
    if (first !== undefined) {
      issues.push(specIssue('E_APT_REPOSITORY', doc.at(`${base}/name`), `${field}.name: \`${repo.name}\` is already the name of apt_repositories[${first}]`, 'Give each repository its own name: it names its files on the hosts.'));
    } else seen.set(repo.name, index);
    const uriProblem = uriProblemOf(repo.uri);
    if (uriProblem !== undefined) issues.push(specIssue('E_APT_REPOSITORY', doc.at(`${base}/uri`), `${field}.uri: ${uriProblem}`, REPOSITORY_HINT));
    const flat = repo.suite.endsWith('/');
    const components = repo.components ?? [];
    if (flat && components.length > 0) {
      issues.push(specIssue('E_APT_REPOSITORY', doc.at(`${base}/components`), `${field}.components: the suite \`${repo.suite}\` is a flat repository, which has no components`, 'Remove components, or name a suite that does not end with /.'));
    }
    if (!flat && components.length === 0) {
      issues.push(specIssue('E_APT_REPOSITORY', doc.keyAt(`${base}/suite`), `${field}: the suite \`${repo.suite}\` needs components`, 'Add `components: [main]` (or the components the repository has), or end the suite with / for a flat repository.'));
    }
    let keyring: Uint8Array | undefined;
    if (repo.signing_key !== undefined) {
      const read = await readKey(reader, repo.signing_key);
      if (read.ok) keyring = read.keyring;
      else issues.push(specIssue('E_APT_KEY', doc.at(`${base}/signing_key`), `${field}.signing_key: ${repo.signing_key} ${read.reason}`, read.hint));
    }
    if (issues.length > problems) continue;
    repositories.push({
      name: repo.name,
      uri: repo.uri,
      suite: repo.suite,
      components,
      keyring,
      keyPath: repo.signing_key,
      trusted: repo.trusted ?? false,
      source: doc.at(base),
    });
  }
  return { repositories, issues };
}

function uriProblemOf(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'is not a valid URL';
  }
  // Committed and written to every host's sources: refused without repeating what was in it.
  if (url.username !== '' || url.password !== '') return 'has credentials in it (`user:password@`); refused';
  if (url.search !== '' || url.hash !== '') return 'has a query or a fragment, which apt does not use';
  return undefined;
}

type KeyRead = { readonly ok: true; readonly keyring: Uint8Array } | { readonly ok: false; readonly reason: string; readonly hint: string };

const KEY_HINT = 'Commit the repository\'s public key (`gpg --export KEYID > apt/<name>.gpg`, or the armored .asc) and point signing_key at it.';

/** The key file, walked one listed directory at a time so neither `..` nor a symlink leads elsewhere. */
async function readKey(reader: RepoReader, path: string): Promise<KeyRead> {
  const segments = path.split('/');
  if (segments.some((segment) => segment === '.' || segment === '..')) {
    return { ok: false, reason: 'has . or .. segments', hint: 'Name the key by its path from the root of the repo.' };
  }
  let directory = '';
  for (const [index, segment] of segments.entries()) {
    const entry = (await reader.list(directory)).find((candidate) => candidate.name === segment);
    const here = directory === '' ? segment : `${directory}/${segment}`;
    if (entry === undefined) return { ok: false, reason: 'does not exist in this commit', hint: KEY_HINT };
    if (entry.type === 'symlink') return { ok: false, reason: 'is a symlink', hint: 'Commit the key itself; tend does not follow symlinks.' };
    if (index < segments.length - 1) {
      if (entry.type !== 'dir') return { ok: false, reason: 'does not exist in this commit', hint: KEY_HINT };
      directory = here;
    } else if (entry.type !== 'file') return { ok: false, reason: 'is not a regular file', hint: KEY_HINT };
  }
  if ((await reader.size(path)) > MAX_KEY_BYTES) return { ok: false, reason: `is over ${MAX_KEY_BYTES} bytes, which is no signing key`, hint: KEY_HINT };
  const key = readOpenPgpPublicKey(await reader.readFile(path));
  return key.ok ? { ok: true, keyring: key.keyring } : { ok: false, reason: key.reason, hint: KEY_HINT };
}
