import { InternalError } from '../errors/index.js';
import { aptUpdate, installPackage, pruneKeptPackages, writeAptRepositories, type RemoteFiles, type RunTarget } from '../hosts/index.js';
import type { PackageChange } from '../plan/model.js';
import { renderAptRepository } from '../render/index.js';
import type { AptRepository } from '../spec/model.js';

/**
 * The package part of a host step. A pinned version is first looked for among the .debs kept on the host
 * (a rollback: no repository, no `apt-get update`); only without one are tend's repositories written and
 * updated, at most once per host per rollout, however many package services the host runs.
 */

/** One per rollout (one `applyPlan`): remembers which hosts have their repositories written and updated. */
export interface AptSession {
  /** Writes the repositories' keyrings and sources and runs `apt-get update` for them, once per host. */
  prepare(pool: RemoteFiles, host: RunTarget): Promise<void>;
}

export function startAptSession(repositories: readonly AptRepository[]): AptSession {
  const rendered = repositories.map((repository) => renderAptRepository(repository));
  const prepared = new Map<string, Promise<void>>();
  return {
    prepare(pool, host) {
      let done = prepared.get(host.name);
      if (done === undefined) {
        done = (async () => {
          await writeAptRepositories(pool, host, rendered);
          await aptUpdate(pool, host, rendered.map((repository) => repository.name));
        })();
        // A failed update is not remembered: the next step on the host (a retry) tries again.
        done.catch(() => prepared.delete(host.name));
        prepared.set(host.name, done);
      }
      return done;
    },
  };
}

export interface PackageStepResult {
  readonly version: string;
  readonly from: 'kept' | 'repository';
}

/** Installs and holds the version a step asks for: from a kept .deb when there is one, else from the repository. */
export async function installPackageStep(pool: RemoteFiles, host: RunTarget, change: PackageChange, session: AptSession): Promise<PackageStepResult> {
  if (change.to !== undefined) {
    const kept = await installPackage(pool, host, change.name, change.to, 'kept');
    if (kept.result === 'installed') return { version: kept.version, from: kept.from };
  }
  await session.prepare(pool, host);
  const installed = await installPackage(pool, host, change.name, change.to, 'repository');
  if (installed.result !== 'installed') throw new InternalError(`installing ${change.name} from the repository asked for the repository`);
  return { version: installed.version, from: installed.from };
}

/**
 * Once the new version is healthy: keep the newest .debs of the package, as many as releases are kept (the
 * one in use counted). An unpinned package is left alone: which version it runs is apt's choice, not tend's.
 */
export async function keepRecentPackages(pool: RemoteFiles, host: RunTarget, change: PackageChange, keep: number): Promise<void> {
  if (change.to === undefined) return;
  await pruneKeptPackages(pool, host, change.name, keep, change.to);
}
