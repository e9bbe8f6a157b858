import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatPlan, planJson } from '../../../src/pass/index.js';
import type { ObservedHost } from '../../../src/hosts/index.js';
import { NOT_IN_LIMIT, preparePass, resolveLimit, skippedByLimit, splitLimit, type Limit } from '../../../src/pass/index.js';
import type { SecretSource } from '../../../src/render/index.js';
import { directoryReader, loadRepo, type RepoSpec } from '../../../src/spec/index.js';

/**
 * `--limit` and SERVICE names as pure functions over the example repo (web: web-1, web-2 run api, gateway
 * and queue; batch: batch-1 runs reports), and the pass they make: only the limited hosts observed, only
 * the limited placements planned, nothing pruned, the rest reported as skipped.
 */
const EXAMPLE = join(resolve(fileURLToPath(new URL('../../..', import.meta.url))), 'deploy-repo-example');
let repo: RepoSpec;
const secrets: SecretSource = { description: 'a test table', read: (name) => Promise.resolve(name === 'api_token' ? 'the-token' : undefined) };

beforeAll(async () => {
  const loaded = await loadRepo(directoryReader(EXAMPLE));
  if (!loaded.ok) throw new Error('the example repo must load');
  repo = loaded.repo;
});

function limitOf(services: readonly string[], names: readonly string[] | undefined): Limit {
  const result = resolveLimit(repo, services, names);
  if (!result.ok) throw new Error(`unexpected unknown names: ${JSON.stringify(result.unknown)}`);
  return result.limit;
}

describe('resolving SERVICE names and --limit', () => {
  it('reads a comma list, ignoring empty entries and spaces', () => {
    expect(splitLimit('web-1, batch,,')).toEqual(['web-1', 'batch']);
    expect(splitLimit(',')).toEqual([]);
  });

  it('expands a group to its hosts and keeps a host as itself', () => {
    expect([...(limitOf([], ['web']).hosts ?? [])].sort()).toEqual(['web-1', 'web-2']);
    expect([...(limitOf([], ['batch-1', 'web-2']).hosts ?? [])].sort()).toEqual(['batch-1', 'web-2']);
  });

  it('limits nothing when no service is named and no --limit is given', () => {
    expect(limitOf([], undefined)).toEqual({ services: undefined, hosts: undefined });
    expect(skippedByLimit(repo, limitOf([], undefined))).toEqual([]);
  });

  it('names every unknown service, host and group at once, each with its closest known name', () => {
    const result = resolveLimit(repo, ['apii', 'queue', 'zzz'], ['web1', 'bacth', 'web-2']);
    expect(result).toEqual({
      ok: false,
      unknown: [
        { kind: 'service', name: 'apii', meant: 'api' },
        { kind: 'service', name: 'zzz', meant: undefined },
        { kind: 'host or group', name: 'web1', meant: 'web-1' },
        { kind: 'host or group', name: 'bacth', meant: 'batch' },
      ],
    });
  });
});

describe('what a limit leaves out', () => {
  it('reports, per service, every host outside --limit, with the reason "not in --limit"', () => {
    expect(skippedByLimit(repo, limitOf([], ['web-1']))).toEqual([
      { service: 'api', hosts: ['web-2'], reason: NOT_IN_LIMIT },
      { service: 'gateway', hosts: ['web-2'], reason: NOT_IN_LIMIT },
      { service: 'queue', hosts: ['web-2'], reason: NOT_IN_LIMIT },
      { service: 'reports', hosts: ['batch-1'], reason: NOT_IN_LIMIT },
    ]);
  });

  it('reports every placement of a service that was not named', () => {
    expect(skippedByLimit(repo, limitOf(['api'], undefined))).toEqual([
      { service: 'gateway', hosts: ['web-1', 'web-2'], reason: NOT_IN_LIMIT },
      { service: 'queue', hosts: ['web-1', 'web-2'], reason: NOT_IN_LIMIT },
      { service: 'reports', hosts: ['batch-1'], reason: NOT_IN_LIMIT },
    ]);
  });

  it('combines both: a named service on the limited hosts only', () => {
    expect(skippedByLimit(repo, limitOf(['api', 'reports'], ['web-2']))).toEqual([
      { service: 'api', hosts: ['web-1'], reason: NOT_IN_LIMIT },
      { service: 'gateway', hosts: ['web-1', 'web-2'], reason: NOT_IN_LIMIT },
      { service: 'queue', hosts: ['web-1', 'web-2'], reason: NOT_IN_LIMIT },
      { service: 'reports', hosts: ['batch-1'], reason: NOT_IN_LIMIT },
    ]);
  });
});

describe('a limited pass', () => {
  /** Every asked host answers "nothing of tend's here", so every limited placement is a create. */
  function emptyHosts(asked: string[][]) {
    return {
      observe: (hosts: readonly { name: string }[]) => {
        asked.push(hosts.map((host) => host.name));
        return Promise.resolve(
          new Map<string, ObservedHost>(hosts.map((host) => [host.name, { host: host.name, reachable: true, services: new Map(), foreignUnits: [] }])),
        );
      },
    };
  }

  it('observes only the limited hosts and plans only the limited placements', async () => {
    const limit = limitOf(['api'], ['web-1']);
    const asked: string[][] = [];
    const pass = await preparePass(repo, secrets, emptyHosts(asked), undefined, limit.services, limit.hosts);
    expect(asked).toEqual([['web-1']]);
    expect(pass.planResult.plan.services.map((service) => [service.service, service.batches.flat().map((step) => `${step.action} ${step.host}`)])).toEqual([
      ['api', ['create web-1']],
    ]);
  });

  it('prunes nothing and reports no orphans, whatever the limited hosts run besides', async () => {
    const limit = limitOf([], ['batch-1']);
    const withLeftover = {
      observe: (hosts: readonly { name: string }[]) => {
        const stale = new Map([['old-service', { files: new Map([['/etc/systemd/system/old-service.service', 'x']]) }]]);
        return Promise.resolve(
          new Map<string, ObservedHost>(hosts.map((host) => [host.name, { host: host.name, reachable: true, services: stale, foreignUnits: [] } as unknown as ObservedHost])),
        );
      },
    };
    const pass = await preparePass({ ...repo, settings: { ...repo.settings, prune: { ...repo.settings.prune, enabled: true } } }, secrets, withLeftover, undefined, limit.services, limit.hosts);
    expect(pass.planResult.plan.prunes).toEqual([]);
    expect(pass.planResult.plan.orphans).toEqual([]);
  });
});

describe('the report of a limited plan', () => {
  it('lists what was skipped and why, in text and in JSON', async () => {
    const limit = limitOf([], ['web-1']);
    const skipped = skippedByLimit(repo, limit);
    const observe = (hosts: readonly { name: string }[]) =>
      Promise.resolve(new Map<string, ObservedHost>(hosts.map((host) => [host.name, { host: host.name, reachable: true, services: new Map(), foreignUnits: [] }])));
    const pass = await preparePass(repo, secrets, { observe }, undefined, limit.services, limit.hosts);
    const text = formatPlan(pass.planResult.plan, pass.observed, skipped);
    expect(text).toContain('Observed 1 hosts.');
    expect(text).toContain('skipped (not in --limit):\n  api: web-2\n  gateway: web-2\n  queue: web-2\n  reports: batch-1\n');
    expect(text).toMatch(/Plan: 3 to create, .*; 4 skipped \(not in --limit\)\.\n$/);
    const json = planJson(pass.planResult.plan, pass.observed, skipped);
    expect(json['skipped']).toEqual([
      { service: 'api', hosts: ['web-2'], reason: 'not in --limit' },
      { service: 'gateway', hosts: ['web-2'], reason: 'not in --limit' },
      { service: 'queue', hosts: ['web-2'], reason: 'not in --limit' },
      { service: 'reports', hosts: ['batch-1'], reason: 'not in --limit' },
    ]);
  });
});
