import { createHash } from 'node:crypto';

import { InternalError } from '../errors/index.js';
import type { AptRepository } from '../spec/model.js';
import { OWNERSHIP_MARKER, aptKeyringPath, aptSourcesPath } from './host-layout.js';

/**
 * An apt repository of tend.yml as the files a host gets: a deb822 source naming its own keyring in
 * Signed-By=, so the key vouches for this repository only (a key in trusted.gpg.d would vouch for every
 * source on the host), and the keyring itself, binary as `gpg --export` writes it. Never `Trusted: yes`
 * unless tend.yml says `trusted: true`.
 */

/** Both are world-readable, as apt's own sources and keyrings are; neither holds a secret. */
export const APT_FILE_MODE = 0o644;

export interface RenderedAptRepository {
  readonly name: string;
  readonly sources: { readonly path: string; readonly content: string; readonly mode: number; readonly sha256: string };
  /** Undefined only for a trusted repository without a key. */
  readonly keyring: { readonly path: string; readonly bytes: Uint8Array; readonly mode: number; readonly sha256: string } | undefined;
}

export function renderAptRepository(repository: AptRepository): RenderedAptRepository {
  if (repository.keyring === undefined && !repository.trusted) {
    // The loader requires a key unless trusted; a source without either would fail apt's signature check.
    throw new InternalError(`apt repository ${repository.name} has neither a signing key nor trusted: true`);
  }
  const values = [repository.uri, repository.suite, ...repository.components];
  if (values.some((value) => value === '' || /[\s\p{Cc}]/u.test(value))) {
    // deb822 separates values by blanks and fields by lines: such a value would change the meaning of the file.
    throw new InternalError(`apt repository ${repository.name} has a blank or control character in a value the loader should have refused`);
  }
  const keyringPath = aptKeyringPath(repository.name);
  const lines = [
    OWNERSHIP_MARKER,
    `# apt repository ${repository.name} from tend.yml.`,
    'Types: deb',
    `URIs: ${repository.uri}`,
    `Suites: ${repository.suite}`,
    ...(repository.components.length > 0 ? [`Components: ${repository.components.join(' ')}`] : []),
    ...(repository.keyring !== undefined ? [`Signed-By: ${keyringPath}`] : []),
    ...(repository.trusted ? ['Trusted: yes'] : []),
  ];
  const content = `${lines.join('\n')}\n`;
  return {
    name: repository.name,
    sources: { path: aptSourcesPath(repository.name), content, mode: APT_FILE_MODE, sha256: sha256Of(Buffer.from(content, 'utf8')) },
    keyring:
      repository.keyring === undefined
        ? undefined
        : { path: keyringPath, bytes: repository.keyring, mode: APT_FILE_MODE, sha256: sha256Of(repository.keyring) },
  };
}

function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
