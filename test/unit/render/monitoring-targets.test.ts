import { describe, expect, it } from 'vitest';
import { monitoringTargets, monitoringTargetText } from '../../../src/render/index.js';
import type { HostSpec, Inventory, ServiceSpec } from '../../../src/spec/model.js';
import { host, service } from './fixtures.js';

function inventoryOf(hosts: readonly HostSpec[], groups: Record<string, string[]>): Inventory {
  const entries = Object.entries(groups);
  return {
    hosts,
    groups: new Map(entries),
    members: new Map(entries.map(([name, members]) => [name, new Set(members)])),
  };
}

const hosts: HostSpec[] = [
  { ...host, name: 'batch-1', address: '10.78.0.21' },
  { ...host, name: 'web-1', address: '10.78.0.11' },
  { ...host, name: 'web-2', address: 'web-2.internal.example.com' },
];
const inventory = inventoryOf(hosts, { web: ['web-1', 'web-2'], batch: ['batch-1'], empty: [] });

function targetsOf(services: ServiceSpec[]) {
  return monitoringTargets({ inventory, services });
}

describe('monitoringTargets', () => {
  it('gives one target per host of the service group, at the host address and metrics port, labelled service, group and host', () => {
    const [file, ...rest] = targetsOf([service({ name: 'api', group: 'web', metricsPort: 9100 })]);
    expect(rest).toEqual([]);
    expect(file).toEqual({
      service: 'api',
      path: 'file_sd/api.json',
      targets: [
        { targets: ['10.78.0.11:9100'], labels: { service: 'api', group: 'web', host: 'web-1' } },
        { targets: ['web-2.internal.example.com:9100'], labels: { service: 'api', group: 'web', host: 'web-2' } },
      ],
    });
  });

  it('gives a service without metrics_port no file, and keeps the others in service order', () => {
    const files = targetsOf([
      service({ name: 'api', group: 'web', metricsPort: 9100 }),
      service({ name: 'queue', group: 'web', metricsPort: undefined }),
      service({ name: 'reports', group: 'batch', metricsPort: 9200 }),
    ]);
    expect(files.map((file) => file.service)).toEqual(['api', 'reports']);
    expect(files[1]?.targets).toEqual([{ targets: ['10.78.0.21:9200'], labels: { service: 'reports', group: 'batch', host: 'batch-1' } }]);
  });

  it('puts an IPv6 address in brackets, as Prometheus reads host:port', () => {
    const v6 = monitoringTargets({
      inventory: inventoryOf([{ ...host, name: 'web-1', address: 'fd00::11' }], { web: ['web-1'] }),
      services: [service({ name: 'api', group: 'web', metricsPort: 9100 })],
    });
    expect(v6[0]?.targets[0]?.targets).toEqual(['[fd00::11]:9100']);
  });

  it('writes an empty array for a group without hosts, so Prometheus drops the targets it had', () => {
    const [file] = targetsOf([service({ name: 'api', group: 'empty', metricsPort: 9100 })]);
    expect(file === undefined ? undefined : monitoringTargetText(file)).toBe('[]\n');
  });
});
