import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRecap } from '../../../bench/support/ansible-peer.js';
import { daemonNodeOptions } from '../../../bench/support/daemon-node-options.js';
import { changedInstances, convergedObservation, loadFleet, planFleet, renderOneService } from '../../../bench/support/fleet-pipeline.js';
import { fleetGroups, fleetInstances, newFleetRepo, releaseService, serviceName, servicePort, syntheticHosts, writeFleetRepo } from '../../../bench/support/fleet-repo.js';
import { formatRatio, median, targetLine } from '../../../bench/support/stats.js';
import { parseTimeReport, timedRun } from '../../../bench/support/timed-process.js';
import { maskedSecrets, RELEASE_ROOT, renderHost } from '../../../src/render/index.js';
import { directoryReader, loadRepo } from '../../../src/spec/index.js';

// The benchmarks' own arithmetic and inputs; their timings are never asserted anywhere.

describe('bench statistics', () => {
  it('takes the median of odd and even counts, unsorted', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow();
  });

  it('shows a ratio as 1/N when the first is smaller, N× otherwise', () => {
    expect(formatRatio(1, 10)).toBe('1/10.0');
    expect(formatRatio(3, 2)).toBe('1.50×');
    expect(formatRatio(0, 2)).toBe('n/a');
  });

  it('says MET only when the figure is within its limit', () => {
    expect(targetLine({ name: 'x', measured: 300, limit: 300, shown: '300 ms', target: '≤ 300 ms' })).toMatch(/^MET /);
    expect(targetLine({ name: 'x', measured: 301, limit: 300, shown: '301 ms', target: '≤ 300 ms' })).toMatch(/^MISSED /);
  });
});

describe('the daemon\'s V8 settings', () => {
  it('come from tend.service: the young generation size the fleet-size bench runs with', async () => {
    expect(await daemonNodeOptions()).toMatch(/^--max-semi-space-size=\d+$/);
  });
});

describe('whole-process figures from /usr/bin/time -v', () => {
  it('reads wall time and peak RSS of a real run', async () => {
    const run = await timedRun(process.execPath, ['-e', 'const keep = Buffer.alloc(64 * 1024 * 1024, 1); setTimeout(() => keep.length, 300)']);
    expect(run.code).toBe(0);
    expect(run.wallMs).toBeGreaterThanOrEqual(300);
    // Filling 64 MiB is work; the 300 ms timer is not.
    expect(run.cpuMs).toBeGreaterThan(0);
    expect(run.cpuMs).toBeLessThan(run.wallMs);
    // The 64 MiB buffer is touched, so it is resident.
    expect(run.maxRssKiB).toBeGreaterThan(64 * 1024);
  });

  it('parses h:mm:ss and m:ss wall times and refuses other text', () => {
    const report = (wall: string) =>
      `\tUser time (seconds): 0.25\n\tSystem time (seconds): 0.05\n\tElapsed (wall clock) time (h:mm:ss or m:ss): ${wall}\n\tMaximum resident set size (kbytes): 1234\n`;
    expect(parseTimeReport(report('0:01.50'))).toEqual({ wallMs: 1500, maxRssKiB: 1234, cpuMs: 300 });
    expect(parseTimeReport(report('1:02:03'))).toEqual({ wallMs: 3_723_000, maxRssKiB: 1234, cpuMs: 300 });
    expect(() => parseTimeReport('Command exited with non-zero status 1')).toThrow(/not a \/usr\/bin\/time -v report/);
  });
});

describe('Ansible PLAY RECAP', () => {
  it('sums changed, unreachable and failed over every host', () => {
    const recap = [
      'PLAY RECAP *********************************************************************',
      'host-1                     : ok=9    changed=3    unreachable=0    failed=0    skipped=1    rescued=0    ignored=0',
      'host-2                     : ok=2    changed=0    unreachable=1    failed=1    skipped=0    rescued=0    ignored=0',
    ].join('\n');
    expect(parseRecap(recap)).toEqual({ changed: 3, failed: 1, unreachable: 1, hosts: 2 });
    expect(parseRecap('no recap').hosts).toBe(0);
  });
});

describe('the bench fleet repo', () => {
  const hosts = Array.from({ length: 3 }, (_, index) => ({
    name: `host-${index + 1}`,
    address: `10.78.0.${11 + index}`,
    port: 22,
    user: 'deploy',
    hostKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC2Nae5bmv8IzCDOvN92kgSO1v7WO6IELtYX3zV1JeSX',
  }));

  it('is a valid deploy repo whose services each listen on their own port on every host', async () => {
    const dir = await newFleetRepo({ hosts, services: 10, timing: { serial: 5, interval: '1s', minHealthyTime: '0s' }, version: '1' });
    const loaded = await loadRepo(directoryReader(dir));
    if (!loaded.ok) throw new Error(loaded.issues.map((issue) => issue.message).join('\n'));
    expect(loaded.repo.services.map((service) => service.name)).toEqual(Array.from({ length: 10 }, (_, index) => serviceName(index)));
    expect(loaded.repo.services.map((service) => service.deploy.timing.minHealthyTime)).toEqual(Array(10).fill(0));
    const rendered = renderHost(loaded.repo, loaded.repo.inventory.hosts[0]!, maskedSecrets);
    expect(rendered).toHaveLength(10);
    expect(rendered[0]!.files.find((file) => file.kind === 'env')?.content).toContain(`PORT="${servicePort(0)}"`);
  });

  it('makes a release by changing only the artifact', async () => {
    const dir = await newFleetRepo({ hosts, services: 1, timing: { serial: 1, interval: '1s', minHealthyTime: '5s' }, version: '1' });
    const spec = await readFile(`${dir}/services/svc-01/spec.yml`, 'utf8');
    await releaseService(dir, 0, '2');
    expect(await readFile(`${dir}/services/svc-01/spec.yml`, 'utf8')).toBe(spec);
    expect(await readFile(`${dir}/services/svc-01/svc-01`, 'utf8')).toContain('VERSION=2\n');
  });

  it('chains every service after the one before it when asked, and relates none otherwise', async () => {
    const timing = { serial: 1, interval: '1s', minHealthyTime: '0s' };
    const chained = await loadRepo(directoryReader(await newFleetRepo({ hosts, services: 3, timing, version: '1', order: 'chained' })));
    const independent = await loadRepo(directoryReader(await newFleetRepo({ hosts, services: 3, timing, version: '1' })));
    if (!chained.ok || !independent.ok) throw new Error('the bench repo is invalid');
    expect(chained.repo.services.map((service) => service.after)).toEqual([[], [serviceName(0)], [serviceName(1)]]);
    expect(independent.repo.services.map((service) => service.after)).toEqual([[], [], []]);
  });

  it('is deployed by the Ansible peer to the paths tend manages', async () => {
    const tasks = await readFile(new URL('../../../bench/ansible/service-tasks.yml', import.meta.url), 'utf8');
    expect(tasks).toContain(`${RELEASE_ROOT}/{{ svc.name }}/{{ svc.sha256 }}`);
    expect(tasks).toContain('/etc/systemd/system/{{ svc.name }}.service');
    expect(tasks).toContain('/etc/tend/env/{{ svc.name }}.env');
  });
});

describe('the host-free fleet of bench/fleet-size.ts', () => {
  const timing = { serial: 5, interval: '1s', minHealthyTime: '0s' };

  it('places Dyploma-sized groups: 2,544 instances of 150 services on 2,000 hosts, 300,000 all-on-all', () => {
    const hosts = syntheticHosts(2000);
    expect(new Set(hosts.map((host) => host.hostKey)).size).toBe(2000);
    expect(fleetGroups(hosts, { kind: 'grouped', groupSize: 17 })).toHaveLength(118);
    expect(fleetInstances(hosts, 150, { kind: 'grouped', groupSize: 17 })).toBe(2544);
    expect(fleetInstances(hosts, 150, { kind: 'all' })).toBe(300_000);
    expect(fleetInstances(syntheticHosts(100), 10, { kind: 'grouped', groupSize: 17 })).toBe(168);
  });

  it('is a valid repo that places what it counts, plans nothing when converged and one service after its bump', async () => {
    const hosts = syntheticHosts(40);
    const placement = { kind: 'grouped', groupSize: 17 } as const;
    const dir = await writeFleetRepo(await mkdtemp(join(tmpdir(), 'tend-bench-fleet-size-test-')), { hosts, services: 5, timing, version: '1', placement });
    try {
      const repo = await loadFleet(dir);
      expect(repo.inventory.hosts).toHaveLength(40);
      const observed = convergedObservation(repo);
      const instances = observed.reduce((sum, host) => sum + (host.reachable ? host.services.size : 0), 0);
      expect(instances).toBe(fleetInstances(hosts, 5, placement));
      expect(renderOneService(repo, serviceName(0)).map((one) => one.host)).toEqual(hosts.slice(0, 17).map((host) => host.name));
      expect((await planFleet(repo, observed)).empty).toBe(true);
      await releaseService(dir, 0, '2');
      expect(changedInstances(await planFleet(await loadFleet(dir), observed))).toEqual([{ service: serviceName(0), hosts: 17 }]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
