import { pathBearsOn } from '../spec/index.js';

/**
 * Which services a ref's plan must look at, from the paths its commits change: a service whose folder
 * changed, or every service when a repo-wide file changed (inventory.yml, tend.yml and what it names) or a
 * service folder that the ref no longer has (its placements are pruned or orphaned: only a whole plan says
 * which). Undefined means every service. Pure: the daemon observes only the hosts of what this returns.
 */
export function servicesToPlan(changedPaths: readonly string[], services: readonly string[]): ReadonlySet<string> | undefined {
  const known = new Set(services);
  const wanted = new Set<string>();
  for (const path of changedPaths) {
    const folder = /^services\/([^/]+)\//.exec(path)?.[1];
    if (folder !== undefined && !known.has(folder)) return undefined;
    for (const service of services) {
      const bearing = pathBearsOn(service, path);
      if (bearing === 'repo-wide') return undefined;
      if (bearing === 'own') wanted.add(service);
    }
  }
  return wanted;
}
