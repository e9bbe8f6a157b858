/** Files whose change can change every service's desired state (hosts, groups, repo-wide settings). */
const REPO_WIDE_FILES: ReadonlySet<string> = new Set(['inventory.yml', 'tend.yml']);

/**
 * How a change to `path` bears on `service`: its own folder (its spec, artifact and files), the repo-wide
 * files every service depends on, or not at all. The one place that knows which paths make a service.
 */
export function pathBearsOn(service: string, path: string): 'own' | 'repo-wide' | 'none' {
  if (path.startsWith(`services/${service}/`)) return 'own';
  return REPO_WIDE_FILES.has(path) ? 'repo-wide' : 'none';
}
