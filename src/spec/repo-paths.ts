/**
 * How a change to `path` bears on `service`: its own folder (its spec, artifact and files), the files every
 * service depends on, or not at all. Only the other services' folders and documentation bear on nothing:
 * anything else outside `services/` may be read for every service (inventory.yml, tend.yml, and the files
 * tend.yml names, such as an apt repository's signing key), so a change to it is looked at everywhere.
 * The one place that knows which paths make a service.
 */
export function pathBearsOn(service: string, path: string): 'own' | 'repo-wide' | 'none' {
  if (path.startsWith(`services/${service}/`)) return 'own';
  if (path.startsWith('services/') || path.endsWith('.md')) return 'none';
  return 'repo-wide';
}
