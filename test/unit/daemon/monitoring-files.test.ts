import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { monitoringFilesFollower, writeMonitoringFiles } from '../../../src/daemon/monitoring-files.js';
import { createLogger } from '../../../src/observability/index.js';
import { monitoringTargetText, type MonitoringTargetFile } from '../../../src/render/index.js';
import { loadRepo } from '../../../src/spec/index.js';
import { filesOf, MemorySource } from './support/memory-source.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tend-file-sd-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function targetFile(service: string, address: string): MonitoringTargetFile {
  return { service, path: `file_sd/${service}.json`, targets: [{ targets: [`${address}:9100`], labels: { service, group: 'web', host: 'web-1' } }] };
}

async function jsonFiles(at: string): Promise<string[]> {
  return (await readdir(at)).filter((name) => name.endsWith('.json')).sort();
}

describe('writeMonitoringFiles', () => {
  it('writes <service>.json with the bytes tend render --monitoring prints, readable by Prometheus (0644)', async () => {
    const api = targetFile('api', '10.78.0.11');
    const change = await writeMonitoringFiles(join(dir, 'file_sd'), [api]);
    expect(change).toEqual({ written: ['api.json'], removed: [] });
    expect(await readFile(join(dir, 'file_sd', 'api.json'), 'utf8')).toBe(monitoringTargetText(api));
    expect((await stat(join(dir, 'file_sd', 'api.json'))).mode & 0o777).toBe(0o644);
  });

  it('writes 0644 under tend.service\'s UMask=0077 too (found by the install e2e: files were 0600)', async () => {
    const previous = process.umask(0o077);
    try {
      await writeMonitoringFiles(join(dir, 'prometheus', 'file_sd'), [targetFile('api', '10.78.0.11')]);
    } finally {
      process.umask(previous);
    }
    expect((await stat(join(dir, 'prometheus', 'file_sd', 'api.json'))).mode & 0o777).toBe(0o644);
    expect((await stat(join(dir, 'prometheus', 'file_sd'))).mode & 0o777).toBe(0o755);
    expect((await stat(join(dir, 'prometheus'))).mode & 0o777).toBe(0o755);
  });

  it('removes the .json file of a service that is gone, and leaves other files and dotfiles alone', async () => {
    await writeMonitoringFiles(dir, [targetFile('api', '10.78.0.11'), targetFile('queue', '10.78.0.12')]);
    await writeFile(join(dir, 'README'), 'not a target file\n');
    await writeFile(join(dir, '.api.json.123.abc.tmp'), 'a write in flight\n');
    const change = await writeMonitoringFiles(dir, [targetFile('api', '10.78.0.11')]);
    expect(change).toEqual({ written: [], removed: ['queue.json'] });
    expect((await readdir(dir)).sort()).toEqual(['.api.json.123.abc.tmp', 'README', 'api.json']);
  });

  it('replaces a changed file by rename and leaves an unchanged one as it is (same inode)', async () => {
    await writeMonitoringFiles(dir, [targetFile('api', '10.78.0.11'), targetFile('queue', '10.78.0.12')]);
    const before = { api: (await stat(join(dir, 'api.json'))).ino, queue: (await stat(join(dir, 'queue.json'))).ino };
    const change = await writeMonitoringFiles(dir, [targetFile('api', '10.78.0.99'), targetFile('queue', '10.78.0.12')]);
    expect(change).toEqual({ written: ['api.json'], removed: [] });
    expect((await stat(join(dir, 'api.json'))).ino).not.toBe(before.api);
    expect((await stat(join(dir, 'queue.json'))).ino).toBe(before.queue);
    expect(await readFile(join(dir, 'api.json'), 'utf8')).toContain('10.78.0.99:9100');
  });
});

describe('monitoringFilesFollower (the daemon, after each pass)', () => {
  const WITH_METRICS = '  group: web\n  metrics_port: 9100\n';

  async function exampleSource(): Promise<{ source: MemorySource; first: string }> {
    const source = new MemorySource();
    const files = await filesOf(new URL('../../../deploy-repo-example', import.meta.url).pathname);
    const first = source.commitChanges('Example', files);
    return { source, first };
  }

  function follower(source: MemorySource, at: string): { follow: (head: string | undefined) => Promise<void>; log: Record<string, unknown>[] } {
    const log: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line !== '') log.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    return { follow: monitoringFilesFollower({ dir: at, load: (head) => loadRepo(source.readerAt(head)), logger: createLogger({ destination }) }), log };
  }

  it('writes the target files of a head that loads, and removes a service that loses its metrics_port in a later commit', async () => {
    const { source, first } = await exampleSource();
    const spec = source.fileAt(first, 'services/api/spec.yml') ?? '';
    const withMetrics = source.commitChanges('api: metrics', { 'services/api/spec.yml': spec.replace('  group: web\n', WITH_METRICS) });
    const { follow } = follower(source, dir);
    await follow(withMetrics);
    expect(await jsonFiles(dir)).toEqual(['api.json']);
    expect(JSON.parse(await readFile(join(dir, 'api.json'), 'utf8'))).toEqual([
      { targets: ['10.78.0.11:9100'], labels: { service: 'api', group: 'web', host: 'web-1' } },
      { targets: ['10.78.0.12:9100'], labels: { service: 'api', group: 'web', host: 'web-2' } },
    ]);
    const without = source.commitChanges('api: no metrics', { 'services/api/spec.yml': spec });
    await follow(without);
    expect(await jsonFiles(dir)).toEqual([]);
  });

  it('keeps the last good files while the head is an invalid commit', async () => {
    const { source, first } = await exampleSource();
    const spec = source.fileAt(first, 'services/api/spec.yml') ?? '';
    const good = source.commitChanges('api: metrics', { 'services/api/spec.yml': spec.replace('  group: web\n', WITH_METRICS) });
    const { follow } = follower(source, dir);
    await follow(good);
    const broken = source.commitChanges('broken', { 'inventory.yml': 'hosts: [\n' });
    await follow(broken);
    expect(await jsonFiles(dir)).toEqual(['api.json']);
  });

  it('logs E_MONITORING_WRITE when the directory cannot be written, and tries the same head again after the next pass', async () => {
    const { source, first } = await exampleSource();
    const spec = source.fileAt(first, 'services/api/spec.yml') ?? '';
    const good = source.commitChanges('api: metrics', { 'services/api/spec.yml': spec.replace('  group: web\n', WITH_METRICS) });
    const blocker = join(dir, 'not-a-directory');
    await writeFile(blocker, 'a file where the directory should be\n');
    const { follow, log } = follower(source, blocker);
    await follow(good);
    expect(log).toEqual([expect.objectContaining({ code: 'E_MONITORING_WRITE', commit: good })]);
    await rm(blocker);
    await follow(good);
    expect(await jsonFiles(blocker)).toEqual(['api.json']);
  });
});
