import { InternalError } from '../errors/index.js';
import type { RenderedFile, RenderedService } from '../render/index.js';
import type { ServiceSpec } from '../spec/model.js';
import type { DesiredFile, DesiredPackage, DesiredPlacement, DesiredState } from './model.js';

/**
 * The planner's input from rendered files: hashes only, contents dropped, so a plan never holds a secret.
 * Only a `'resolved'` render is accepted: a masked env file would never hash like the one on the host, and
 * every host would look changed.
 */
export function desiredStateOf(services: readonly ServiceSpec[], rendered: readonly RenderedService<'resolved'>[]): DesiredState {
  const runs = new Map(services.map((service) => [service.name, desiredRun(service)]));
  // Hosts that share a render share its hashes too: one list per distinct render, not one per instance.
  const hashesOf = new Map<readonly RenderedFile[], readonly DesiredFile[]>();
  const placements = rendered.map((one): DesiredPlacement => {
    const run = runs.get(one.service);
    if (run === undefined) throw new InternalError(`rendered ${one.service} for ${one.host}, which is not in the desired services`);
    let files = hashesOf.get(one.files);
    if (files === undefined) {
      files = one.files.map(({ path, sha256, mode, kind }) => ({ path, sha256, mode, kind }));
      hashesOf.set(one.files, files);
    }
    // Two plain shapes, no spread: a spread builds each of 300,000 placements the slow way, twice the size.
    if (run.package === undefined) return { service: one.service, host: one.host, files, release: run.release };
    return { service: one.service, host: one.host, files, release: run.release, package: run.package };
  });
  return { services, placements };
}

/** What a service's run asks of every host, decided once per service and shared by its placements. */
function desiredRun(service: ServiceSpec): { readonly release: string | undefined; readonly package: DesiredPackage | undefined } {
  // A package run has no release of tend's; its version is compared with what dpkg reports instead.
  if (service.run.kind === 'package') return { release: undefined, package: { name: service.run.package, version: service.run.version } };
  return { release: service.run.sha256, package: undefined };
}
