import type { DaemonStatus } from '../status/index.js';

/** Where the last-known-good pointer of a service lives on the git server. */
export function healthyRefOf(service: string): string {
  return `refs/tend/healthy/${service}`;
}

export interface HealthyRefMove {
  readonly service: string;
  readonly ref: string;
  /** The commit every host of the service was healthy at. */
  readonly commit: string;
}

/**
 * The commit each service is healthy at in `status`: Synced (or RolledBack, running tend's revert) with
 * its last healthy commit the one it should run, the same test the dependency gate makes. A service
 * moving, failing, waiting or paused is healthy at nothing new.
 */
export function healthyCommits(status: DaemonStatus): ReadonlyMap<string, string> {
  const healthy = new Map<string, string>();
  for (const service of status.services) {
    const settled = service.state === 'Synced' || service.state === 'RolledBack';
    if (settled && service.stableCommit !== undefined && service.stableCommit === service.desiredCommit) healthy.set(service.service, service.stableCommit);
  }
  return healthy;
}

/**
 * The refs to move after a status was published: those of services healthy at a commit they were not
 * healthy at in `previous` (undefined: the first status since start, so every healthy service, and the
 * push finds out whether the server already has it). Whether the move goes forward in git is the
 * pusher's question: it needs the server's ref and the history.
 */
export function healthyRefMoves(previous: DaemonStatus | undefined, next: DaemonStatus): HealthyRefMove[] {
  const before = previous === undefined ? new Map<string, string>() : healthyCommits(previous);
  return [...healthyCommits(next)]
    .filter(([service, commit]) => before.get(service) !== commit)
    .map(([service, commit]) => ({ service, ref: healthyRefOf(service), commit }));
}
