import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { fleetInstances, syntheticHosts, writeFleetRepo, type FleetPlacement } from '../../../bench/support/fleet-repo.js';
import { DEFAULT_LOAD_LIMITS, directoryReader, loadRepo } from '../../../src/spec/index.js';
import type { LoadResult } from '../../../src/spec/index.js';
import { ARTICLE_SPEC, SPEC_PATH, baseRepo } from './fixture-repo.js';
import { loadIssues } from './load-files.js';

/** Each YAML file is limited by what it is: a spec stays small, an inventory holds a fleet. */

const TIMING = { serial: 5, interval: '1s', minHealthyTime: '0s' } as const;
const DYPLOMA: FleetPlacement = { kind: 'grouped', groupSize: 17 };
const roots: string[] = [];

afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

async function loadFleet(hostCount: number, services: number, placement: FleetPlacement): Promise<{ result: LoadResult; inventoryBytes: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'tend-fleet-limits-'));
  roots.push(dir);
  await writeFleetRepo(dir, { hosts: syntheticHosts(hostCount), services, timing: TIMING, version: '1', placement });
  const reader = directoryReader(dir);
  return { result: await loadRepo(reader), inventoryBytes: await reader.size('inventory.yml') };
}

function issuesOf(result: LoadResult): string {
  return result.ok ? '' : result.issues.map((issue) => `${issue.file}:${issue.line}: ${issue.message} (${issue.code})`).join('\n');
}

describe('limits sized to what a file is', () => {
  it('validates a 2,000-host, 150-service repo with pinned host keys (an inventory over the old 256 KiB)', async () => {
    const { result, inventoryBytes } = await loadFleet(2000, 150, DYPLOMA);
    expect(inventoryBytes).toBeGreaterThan(256 * 1024);
    expect(result.ok, issuesOf(result)).toBe(true);
    if (!result.ok) return;
    expect(result.repo.inventory.hosts).toHaveLength(2000);
    expect(result.repo.services).toHaveLength(150);
    expect(fleetInstances(syntheticHosts(2000), 150, DYPLOMA)).toBe(2544);
  }, 60_000);

  it('loads a 10,000-host inventory', async () => {
    const { result, inventoryBytes } = await loadFleet(10_000, 1, DYPLOMA);
    expect(result.ok, issuesOf(result)).toBe(true);
    if (!result.ok) return;
    expect(result.repo.inventory.hosts).toHaveLength(10_000);
    // Room to spare: real inventories carry comments and longer keys than ed25519.
    expect(inventoryBytes * 4).toBeLessThan(DEFAULT_LOAD_LIMITS.maxInventoryBytes);
  }, 60_000);

  it('refuses a spec over its limit, which stays small', async () => {
    expect(DEFAULT_LOAD_LIMITS.maxSpecBytes).toBe(256 * 1024);
    const padded = `${ARTICLE_SPEC}${'#'.repeat(DEFAULT_LOAD_LIMITS.maxSpecBytes - ARTICLE_SPEC.length)}\n`;
    const issues = await loadIssues({ ...baseRepo(), [SPEC_PATH]: padded });
    expect(issues).toEqual([expect.objectContaining({ code: 'E_FILE_TOO_LARGE', file: SPEC_PATH, line: 1, col: 1 })]);
    expect(issues[0]?.message).toContain(`over the limit of ${DEFAULT_LOAD_LIMITS.maxSpecBytes}`);
  });

  it('refuses tend.yml over the spec limit: settings are a few lines too', async () => {
    const issues = await loadIssues({ ...baseRepo(), 'tend.yml': `concurrency: 4\n${'#'.repeat(DEFAULT_LOAD_LIMITS.maxSpecBytes)}\n` });
    expect(issues).toEqual([expect.objectContaining({ code: 'E_FILE_TOO_LARGE', file: 'tend.yml' })]);
  });

  it('refuses an inventory over its own limit, naming that limit', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tend-fleet-limits-'));
    roots.push(dir);
    await writeFleetRepo(dir, { hosts: syntheticHosts(3), services: 1, timing: TIMING, version: '1' });
    const limit = 64 * 1024;
    await writeFile(join(dir, 'inventory.yml'), `# ${'x'.repeat(limit)}\n`, { flag: 'a' });
    const result = await loadRepo(directoryReader(dir), { limits: { maxInventoryBytes: limit } });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toEqual([expect.objectContaining({ code: 'E_FILE_TOO_LARGE', file: 'inventory.yml', line: 1, col: 1 })]);
    expect(result.issues[0]?.message).toContain(`over the limit of ${limit} bytes for an inventory`);
  });
});
