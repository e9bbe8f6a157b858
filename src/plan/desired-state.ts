import { InternalError } from '../errors/index.js';
import type { RenderedFile, RenderedService } from '../render/index.js';
import type { ServiceSpec } from '../spec/model.js';
import type { DesiredFile, DesiredPlacement, DesiredState } from './model.js';

/**
 * The planner's input from rendered files: hashes only, contents dropped, so a plan never holds a secret.
 * Only a `'resolved'` render is accepted: a masked env file would never hash like the one on the host, and
 * every host would look changed.
 */
export function desiredStateOf(services: readonly ServiceSpec[], rendered: readonly RenderedService<'resolved'>[]): DesiredState {
  const byName = new Map(services.map((service) => [service.name, service]));
  // Hosts that share a render share its hashes too: one list per distinct render, not one per instance.
  const hashesOf = new Map<readonly RenderedFile[], readonly DesiredFile[]>();
  const placements = rendered.map((one): DesiredPlacement => {
    const spec = byName.get(one.service);
    if (spec === undefined) throw new InternalError(`rendered ${one.service} for ${one.host}, which is not in the desired services`);
    let files = hashesOf.get(one.files);
    if (files === undefined) {
      files = one.files.map(({ path, sha256, mode, kind }) => ({ path, sha256, mode, kind }));
      hashesOf.set(one.files, files);
    }
    return {
      service: one.service,
      host: one.host,
      files,
      // A package run has no release of tend's; its version is compared with what dpkg reports instead.
      release: spec.run.kind === 'package' ? undefined : spec.run.sha256,
      ...(spec.run.kind === 'package' ? { package: { name: spec.run.package, version: spec.run.version } } : {}),
    };
  });
  return { services, placements };
}
