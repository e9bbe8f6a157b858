import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { InternalError } from '../../../src/errors/index.js';
import { OWNERSHIP_MARKER, renderAptRepository } from '../../../src/render/index.js';
import type { AptRepository } from '../../../src/spec/index.js';
import { APT_KEY_BINARY } from '../spec/apt-key-fixture.js';

function repository(overrides: Partial<AptRepository> = {}): AptRepository {
  return {
    name: 'internal',
    uri: 'https://apt.example.com/debian',
    suite: 'bookworm',
    components: ['main', 'contrib'],
    keyring: APT_KEY_BINARY,
    keyPath: 'apt/internal.asc',
    trusted: false,
    source: { file: 'tend.yml', line: 2, col: 5 },
    ...overrides,
  };
}

describe('renderAptRepository', () => {
  it('writes a deb822 source signed by its own keyring under /etc/apt/keyrings, and the keyring as given', () => {
    const rendered = renderAptRepository(repository());
    expect(rendered.sources).toEqual({
      path: '/etc/apt/sources.list.d/tend-internal.sources',
      content: [
        OWNERSHIP_MARKER,
        '# apt repository internal from tend.yml.',
        'Types: deb',
        'URIs: https://apt.example.com/debian',
        'Suites: bookworm',
        'Components: main contrib',
        'Signed-By: /etc/apt/keyrings/tend-internal.gpg',
        '',
      ].join('\n'),
      mode: 0o644,
      sha256: createHash('sha256').update(rendered.sources.content).digest('hex'),
    });
    expect(rendered.keyring).toEqual({
      path: '/etc/apt/keyrings/tend-internal.gpg',
      bytes: APT_KEY_BINARY,
      mode: 0o644,
      sha256: createHash('sha256').update(APT_KEY_BINARY).digest('hex'),
    });
  });

  it('never writes Trusted: unless the repository says trusted: true', () => {
    expect(renderAptRepository(repository()).sources.content).not.toMatch(/trusted/i);
    const trusted = renderAptRepository(repository({ trusted: true, keyring: undefined, keyPath: undefined }));
    expect(trusted.sources.content).toContain('\nTrusted: yes\n');
    expect(trusted.sources.content).not.toContain('Signed-By');
    expect(trusted.keyring).toBeUndefined();
  });

  it('writes no Components line for a flat repository', () => {
    const content = renderAptRepository(repository({ suite: './', components: [] })).sources.content;
    expect(content).toContain('\nSuites: ./\nSigned-By:');
    expect(content).not.toContain('Components');
  });

  it('refuses, as tend\'s bug, a repository with neither key nor trust, or a value that would break the deb822 fields', () => {
    expect(() => renderAptRepository(repository({ keyring: undefined }))).toThrow(InternalError);
    expect(() => renderAptRepository(repository({ suite: 'bookworm\nTrusted: yes' }))).toThrow(InternalError);
    expect(() => renderAptRepository(repository({ components: ['main contrib'] }))).toThrow(InternalError);
  });
});
