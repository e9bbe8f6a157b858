import type { ObservedHost, ServicePackage } from '../hosts/index.js';
import { desiredStateOf, planRollout } from '../plan/index.js';
import type { PlanResult } from '../plan/model.js';
import type { PlanOptions } from '../plan/plan-rollout.js';
import { loadSecrets, renderHost, secretRefs, unitName, type RenderedService, type SecretSource } from '../render/index.js';
import type { RepoSpec } from '../spec/model.js';
import type { Fleet } from './fleet.js';

/** Everything one reconcile pass knows before it acts: what should be, what is, and the plan between. */
export interface PreparedPass {
  readonly repo: RepoSpec;
  readonly observed: ReadonlyMap<string, ObservedHost>;
  /**
   * Resolved renders by host, each host's as renderHost gave them; they hold secret values and never leave
   * the process. Not keyed by a `service@host` string, nor a map per host: either was a new object per
   * instance on every pass, 300,000 of them for 150 services on 2,000 hosts, for the few steps that look
   * one up.
   */
  readonly rendered: ReadonlyMap<string, readonly RenderedService<'resolved'>[]>;
  readonly planResult: PlanResult;
}

/**
 * Observe and compare, the first two phases of a pass (act is the fleet's `apply`). Secrets are read before
 * any host is contacted, so a missing one stops the pass with E_SECRET_MISSING and nothing touched; every
 * host is observed in one round trip each, concurrently within the fleet's bounds. With `only`, just those
 * services are rendered and planned, and just their hosts observed; with `onlyHosts` (`--limit`), just
 * those hosts are rendered, observed and planned. Either makes the plan partial: nothing is pruned.
 */
export async function preparePass(
  repo: RepoSpec,
  secrets: SecretSource | undefined,
  fleet: Pick<Fleet, 'observe'>,
  resume?: PlanOptions['resume'],
  only?: ReadonlySet<string>,
  onlyHosts?: ReadonlySet<string>,
): Promise<PreparedPass> {
  const services = only === undefined ? repo.services : repo.services.filter((one) => only.has(one.name));
  // Every service on a host is rendered together (ports and units are checked per host), so every secret is read.
  const resolver = await loadSecrets(secrets, secretRefs(repo.services));
  const rendered = new Map<string, RenderedService<'resolved'>[]>();
  const wanted = new Map<string, string[]>();
  const packages = new Map<string, ServicePackage[]>();
  // Per service, not per instance: one unit name string each, whatever the number of hosts.
  const specs = new Map(repo.services.map((one) => [one.name, { run: one.run, unit: unitName(one.name) }]));
  const unitOf = (one: RenderedService): string => specs.get(one.service)?.unit ?? unitName(one.service);
  for (const host of repo.inventory.hosts) {
    if (onlyHosts !== undefined && !onlyHosts.has(host.name)) continue;
    const all = renderHost(repo, host, resolver);
    const onHost = only === undefined ? all : all.filter((one) => only.has(one.service));
    if (onHost.length === 0) continue;
    rendered.set(host.name, onHost);
    // Made at its size by map, not grown by a push per instance.
    wanted.set(host.name, onHost.map(unitOf));
    const hostPackages: ServicePackage[] = [];
    for (const one of onHost) {
      const run = specs.get(one.service)?.run;
      if (run?.kind === 'package') hostPackages.push({ service: one.service, package: run.package });
    }
    if (hostPackages.length > 0) packages.set(host.name, hostPackages);
  }
  // With `only` or `onlyHosts`, the hosts that run none of those services are not looked at.
  const hosts = only === undefined && onlyHosts === undefined ? repo.inventory.hosts : repo.inventory.hosts.filter((host) => wanted.has(host.name));
  const observed = await fleet.observe(hosts, (host) => wanted.get(host) ?? [], (host) => packages.get(host) ?? []);
  const desired = desiredStateOf(services, [...rendered.values()].flat());
  const planResult = planRollout(desired, [...observed.values()], { prune: repo.settings.prune, partial: only !== undefined || onlyHosts !== undefined, ...(resume === undefined ? {} : { resume }) });
  return { repo, observed, rendered, planResult };
}
