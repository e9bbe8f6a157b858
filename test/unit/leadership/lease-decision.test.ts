import { describe, expect, it } from 'vitest';
import { mayAct, type LeaseState } from '../../../src/leadership/index.js';

const TTL = 15_000;
const MARGIN = 5_000;
const leading: LeaseState = { kind: 'leading', leaseId: '7', revision: '42', electedAt: 1_800_000_000_000, renewSentAt: 100_000, ttlMs: TTL };

describe('mayAct: a leader acts only while its lease surely lives', () => {
  const cases: readonly { readonly name: string; readonly state: LeaseState; readonly now: number; readonly act: boolean; readonly reason?: string }[] = [
    { name: 'acts right after a confirmed renewal', state: leading, now: 100_000, act: true },
    { name: 'acts until the TTL less the margin has passed since the renewal was sent', state: leading, now: 100_000 + TTL - MARGIN - 1, act: true },
    { name: 'stops at the TTL less the margin, before etcd could expire the lease', state: leading, now: 100_000 + TTL - MARGIN, act: false, reason: 'lease-expiring' },
    { name: 'stops after a pause past the TTL (GC, SIGSTOP), whatever it heard from etcd', state: leading, now: 100_000 + TTL + 60_000, act: false, reason: 'lease-expiring' },
    { name: 'does not trust a renewal time in its future', state: leading, now: 99_999, act: false, reason: 'clock-went-back' },
    { name: 'a standby never acts', state: { kind: 'standby', leader: { identity: 'tend-a', url: 'http://a:9464' }, leaderSince: 1 }, now: 100_000, act: false, reason: 'standby' },
    { name: 'a standby with no leader (an election under way) does not act', state: { kind: 'standby', leader: undefined, leaderSince: undefined }, now: 100_000, act: false, reason: 'standby' },
    { name: 'with etcd unavailable nobody acts', state: { kind: 'unavailable', code: 'E_ETCD_UNAVAILABLE', message: 'no answer', since: 1 }, now: 100_000, act: false, reason: 'etcd-unavailable' },
    { name: 'before the first election nobody acts', state: { kind: 'starting' }, now: 100_000, act: false, reason: 'starting' },
  ];
  for (const one of cases) {
    it(one.name, () => {
      const decision = mayAct(one.state, one.now, MARGIN);
      expect(decision.act).toBe(one.act);
      if (!decision.act) expect(decision.reason).toBe(one.reason);
    });
  }

  it('says until when a leader may act', () => {
    expect(mayAct(leading, 101_000, MARGIN)).toEqual({ act: true, until: 100_000 + TTL - MARGIN });
  });

  it('names the etcd error when etcd is unavailable', () => {
    const decision = mayAct({ kind: 'unavailable', code: 'E_ETCD_UNAVAILABLE', message: 'connection refused', since: 1 }, 0, MARGIN);
    expect(decision).toMatchObject({ act: false, detail: 'etcd is unavailable (E_ETCD_UNAVAILABLE): connection refused' });
  });
});
