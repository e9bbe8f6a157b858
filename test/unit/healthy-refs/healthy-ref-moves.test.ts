import { describe, expect, it } from 'vitest';
import { healthyRefMoves } from '../../../src/healthy-refs/index.js';
import type { DaemonStatus, ServiceStatus } from '../../../src/status/index.js';
import { baseStatus, synced } from '../api/status-fixtures.js';

/** Which refs/tend/healthy/<service> to move, from two successive daemon statuses alone. */

const ONE = '1'.repeat(40);
const TWO = '2'.repeat(40);
const REVERT = '3'.repeat(40);

function status(...services: ServiceStatus[]): DaemonStatus {
  return baseStatus(services);
}

function state(service: string, fields: Partial<ServiceStatus>): ServiceStatus {
  return { ...synced(service, ONE), ...fields };
}

describe('healthyRefMoves', () => {
  const cases: { name: string; previous: DaemonStatus | undefined; next: DaemonStatus; want: string[] }[] = [
    { name: 'the first status after a start moves every healthy service', previous: undefined, next: status(synced('api', ONE), synced('db', ONE)), want: [`api refs/tend/healthy/api ${ONE}`, `db refs/tend/healthy/db ${ONE}`] },
    { name: 'nothing when each service is healthy at the commit it already was', previous: status(synced('api', ONE)), next: status(synced('api', ONE)), want: [] },
    { name: 'a service healthy at a new commit moves; one unchanged does not', previous: status(synced('api', ONE), synced('db', ONE)), next: status(synced('api', TWO), synced('db', ONE)), want: [`api refs/tend/healthy/api ${TWO}`] },
    { name: 'a rolled-back service is healthy at the revert commit it runs', previous: status(synced('api', ONE)), next: status(state('api', { state: 'RolledBack', desiredCommit: REVERT, stableCommit: REVERT, revertCommit: REVERT })), want: [`api refs/tend/healthy/api ${REVERT}`] },
    { name: 'a service still rolling out is healthy at nothing new', previous: undefined, next: status(state('api', { state: 'Progressing', desiredCommit: TWO, stableCommit: ONE })), want: [] },
    { name: 'a degraded service whose desired commit failed moves nothing', previous: status(synced('api', ONE)), next: status(state('api', { state: 'Degraded', code: 'E_PROBE_FAILED', desiredCommit: TWO, stableCommit: ONE })), want: [] },
    { name: 'Synced but with its last healthy commit behind the desired one (not yet recorded) moves nothing', previous: undefined, next: status(state('api', { desiredCommit: TWO, stableCommit: ONE })), want: [] },
    { name: 'a service never healthy (no stable commit) moves nothing', previous: undefined, next: status(state('api', { state: 'Stalled', stableCommit: undefined })), want: [] },
    { name: 'paused or waiting services move nothing', previous: undefined, next: status(state('api', { state: 'Paused' }), state('db', { state: 'Waiting' })), want: [] },
    { name: 'healthy again at the same commit after a failure moves it again (the pusher finds it already there)', previous: status(state('api', { state: 'Degraded', desiredCommit: TWO })), next: status(synced('api', ONE)), want: [`api refs/tend/healthy/api ${ONE}`] },
  ];
  for (const one of cases) {
    it(one.name, () => {
      expect(healthyRefMoves(one.previous, one.next).map((move) => `${move.service} ${move.ref} ${move.commit}`)).toEqual(one.want);
    });
  }
});
