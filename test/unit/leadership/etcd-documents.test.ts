import { describe, expect, it } from 'vitest';
import { journalOf, journalParts, publishedStatusOf, statusParts } from '../../../src/leadership/index.js';
import { partChanges } from '../../../src/leadership/etcd-documents.js';
import { emptyJournal, type HostRecord, type Journal, type ServiceCondition } from '../../../src/state/index.js';
import { statusOf } from '../../../src/status/index.js';

const SOURCE = 'https://git.example.net/deploy.git#main';
const NOW = 1_764_780_000_000;
const COMMIT = 'a'.repeat(40);

function record(state: HostRecord['state'] = 'healthy'): HostRecord {
  return { commit: COMMIT, version: '1.4.2', state, unit: 'active/running', lastProbe: { ok: true, at: NOW, latencyMs: 12, status: 200, error: undefined }, since: NOW, observedAt: NOW };
}

function condition(): ServiceCondition {
  return { state: 'Synced', code: undefined, errorClass: undefined, message: 'every host runs the head', hint: undefined, since: NOW, desiredCommit: COMMIT, revertCommit: undefined, nextAttemptAt: undefined, failedHosts: undefined, window: undefined };
}

/** `services` services on `hosts` hosts each, every one healthy, with a rollout record each. */
function fleetJournal(services: number, hosts: number): Journal {
  const names = Array.from({ length: services }, (_, index) => `svc-${String(index).padStart(3, '0')}`);
  return {
    ...emptyJournal(SOURCE),
    lastApplied: COMMIT,
    conditions: Object.fromEntries(names.map((name) => [name, condition()])),
    hosts: Object.fromEntries(names.map((name, index) => [name, Object.fromEntries(Array.from({ length: hosts }, (_, host) => [`host-${String(index * hosts + host).padStart(4, '0')}`, record()]))])),
  };
}

function withHost(journal: Journal, service: string, host: string, value: HostRecord): Journal {
  return { ...journal, hosts: { ...journal.hosts, [service]: { ...journal.hosts[service], [host]: value } } };
}

function bytes(parts: ReadonlyMap<string, string>, keys: Iterable<string> = parts.keys()): number {
  let total = 0;
  for (const key of keys) total += Buffer.byteLength(parts.get(key) ?? '');
  return total;
}

describe('the journal in etcd: parts that each write sends only when changed', () => {
  it('reads back exactly the journal that was split', () => {
    const journal = fleetJournal(150, 17);
    const read = journalOf(journalParts(journal), SOURCE);
    expect(read).toEqual({ kind: 'ok', journal });
  });

  it('a change on one host of one service sends `main` and that service’s bucket, a small share of the whole', () => {
    const before = fleetJournal(150, 17);
    const after = withHost({ ...before, lastAttempted: 'b'.repeat(40) }, 'svc-042', 'host-0714', record('pending'));
    const changes = partChanges(journalParts(before), journalParts(after));
    const keys = changes.put.map(([key]) => key).sort();
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^hosts\/\d\d$/);
    expect(keys[1]).toBe('main');
    expect(changes.remove).toEqual([]);
    const whole = journalParts(after);
    const sent = changes.put.reduce((sum, [, text]) => sum + Buffer.byteLength(text), 0);
    // 2,550 placements at Dyploma's density: the whole is most of etcd's 1.5 MiB request limit, a step a few percent.
    expect(bytes(whole)).toBeGreaterThan(500_000);
    expect(sent).toBeLessThan(bytes(whole) / 10);
  });

  it('a first write sends every part; the whole journal fits in one etcd transaction (128 operations)', () => {
    const parts = journalParts(fleetJournal(150, 17));
    const changes = partChanges(new Map(), parts);
    expect(changes.put.length).toBe(parts.size);
    expect(changes.put.length).toBeLessThanOrEqual(2 + 32);
  });

  it('a service gone takes its bucket with it when it was the bucket’s last', () => {
    const before = journalParts(fleetJournal(1, 3));
    const after = journalParts({ ...fleetJournal(1, 3), hosts: {} });
    expect(partChanges(before, after).remove).toEqual([...before.keys()].filter((key) => key.startsWith('hosts/')));
  });

  it('nothing written is missing; a part that is not JSON is a corrupt journal, not a crash', () => {
    expect(journalOf(new Map(), SOURCE)).toEqual({ kind: 'missing' });
    const parts = new Map(journalParts(fleetJournal(2, 2)));
    parts.set('hosts/05', '{"svc-000": ');
    expect(journalOf(parts, SOURCE)).toMatchObject({ kind: 'corrupt', reason: expect.stringContaining('not JSON') });
    expect(journalOf(journalParts(emptyJournal('https://other.example/repo.git#main')), SOURCE)).toMatchObject({ kind: 'other-source' });
  });

  it('refuses to split a journal that would not read back', () => {
    expect(() => journalParts({ ...fleetJournal(1, 1), lastApplied: 42 as unknown as string })).toThrow(/would not read back/);
  });
});

describe('the published status in etcd', () => {
  it('reads back the status with its hosts in the order of its services', () => {
    const journal = fleetJournal(40, 3);
    const status = statusOf(journal, {
      startedAt: NOW,
      source: { description: SOURCE, branch: 'main', head: COMMIT, lastFetchAt: NOW, lastFetchOkAt: NOW, error: undefined },
      passError: undefined,
      settled: true,
      now: NOW,
    });
    const published = { publishedAt: NOW, status };
    expect(publishedStatusOf(statusParts(published))).toEqual(JSON.parse(JSON.stringify(published)));
  });

  it('nothing published, or a main part that is not a status, reads as nothing published', () => {
    expect(publishedStatusOf(undefined)).toBeUndefined();
    expect(publishedStatusOf(new Map())).toBeUndefined();
    expect(publishedStatusOf(new Map([['main', '{"publishedAt":"yesterday"}']]))).toBeUndefined();
  });
});
