import { describe, expect, it } from 'vitest';
import { InternalError } from '../../../src/errors/index.js';
import { desiredStateOf } from '../../../src/plan/desired-state.js';
import type { RenderedService } from '../../../src/render/index.js';
import { aService, hash } from './builders.js';

function rendered(service: string, host: string): RenderedService<'resolved'> {
  return {
    service,
    host,
    secrets: 'resolved',
    files: [{ path: `/etc/tend/env/${service}.env`, content: 'TOKEN=s3cret\n', mode: 0o600, kind: 'env', sha256: 'a'.repeat(64) }],
  };
}

describe('desiredStateOf', () => {
  it('keeps hashes and drops file contents, so no secret reaches the plan', () => {
    const state = desiredStateOf([aService('api')], [rendered('api', 'host-01')]);
    expect(state.placements[0]?.files).toEqual([{ path: '/etc/tend/env/api.env', sha256: 'a'.repeat(64), mode: 0o600, kind: 'env' }]);
    expect(JSON.stringify(state.placements)).not.toContain('s3cret');
  });

  it('takes the release from an artifact run and none from a package run', () => {
    const artifact = aService('api');
    const pkg = { ...aService('db'), run: { kind: 'package' as const, package: 'postgresql', version: '15', argv: ['/usr/bin/postgres'] } };
    const state = desiredStateOf([artifact, pkg], [rendered('api', 'h'), rendered('db', 'h')]);
    expect(state.placements.map((placement) => placement.release)).toEqual([hash('api-v1'), undefined]);
  });

  it('carries the package and its pinned version of a package run, and the sha256 of a url run as its release', () => {
    const pkg = { ...aService('db'), run: { kind: 'package' as const, package: 'postgresql', version: '15.4-1', argv: ['/usr/bin/postgres'] } };
    const url = {
      ...aService('api'),
      run: { kind: 'url' as const, url: 'https://store.example.com/api', sha256: 'c'.repeat(64), downloadName: 'api', archive: undefined, fileName: 'api', fetch: 'host' as const, credentials: undefined, argv: ['/x'] },
    };
    const state = desiredStateOf([url, pkg], [rendered('api', 'h'), rendered('db', 'h')]);
    expect(state.placements.map((placement) => [placement.release, placement.package])).toEqual([
      ['c'.repeat(64), undefined],
      [undefined, { name: 'postgresql', version: '15.4-1' }],
    ]);
  });

  it('treats a render of an unknown service as tend\'s bug', () => {
    expect(() => desiredStateOf([], [rendered('api', 'h')])).toThrow(InternalError);
  });
});
