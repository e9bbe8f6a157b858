import type { ObservedHost, ObservedService } from '../../src/hosts/index.js';
import { preparePass } from '../../src/pass/index.js';
import type { Plan } from '../../src/plan/index.js';
import { maskedSecrets, renderHost, renderService, resolvedSecrets, servicesOnHost } from '../../src/render/index.js';
import type { RenderedService } from '../../src/render/index.js';
import { gitTreeReader } from '../../src/source/index.js';
import { directoryReader, loadRepo } from '../../src/spec/index.js';
import type { LoadCache, RepoSpec } from '../../src/spec/index.js';

/**
 * tend's own load, render and plan, run in this process on a generated repo with no host: what `tend
 * validate`, `tend render` and the plan half of a pass cost as the fleet grows. The observed state is made
 * from a render, as a converged fleet would report it, so the planner compares real hashes.
 */

/** No bench spec holds a `{{ secret }}`; a resolved render is what a pass plans from. */
const NO_SECRETS = resolvedSecrets(new Map(), 'the bench fleet (no secrets)');

export async function loadFleet(dir: string): Promise<RepoSpec> {
  const loaded = await loadRepo(directoryReader(dir));
  if (!loaded.ok) throw new Error(`the bench repo ${dir} is invalid: ${loaded.issues.map((issue) => issue.message).join('; ')}`);
  return loaded.repo;
}

/**
 * How the daemon loads a head: the commit's tree straight from git (`gitCache` is isomorphic-git's, one per
 * git directory, as the source keeps it), through the reconciler's LoadCache, which holds the parts of the
 * head it loaded before.
 */
export async function loadCommit(gitdir: string, commit: string, cache: LoadCache, gitCache: object): Promise<RepoSpec> {
  const loaded = await loadRepo(gitTreeReader({ gitdir, cache: gitCache, commit }), { cache });
  if (!loaded.ok) throw new Error(`the bench commit ${commit} is invalid: ${loaded.issues.map((issue) => issue.message).join('; ')}`);
  return loaded.repo;
}

/** What `tend render SERVICE` computes: the service's files on every host of its group, secrets masked. */
export function renderOneService(repo: RepoSpec, name: string): RenderedService<'masked'>[] {
  const service = repo.services.find((candidate) => candidate.name === name);
  if (service === undefined) throw new Error(`no service ${name} in the bench repo`);
  const members = repo.inventory.members.get(service.group) ?? new Set<string>();
  return repo.inventory.hosts
    .filter((host) => members.has(host.name))
    .map((host) => renderService({ service, host, servicesOnHost: new Set(servicesOnHost(repo, host.name).map((one) => one.name)), secrets: maskedSecrets }));
}

/** Every service on every host, as a pass renders before it plans. */
export function renderFleet(repo: RepoSpec): RenderedService<'resolved'>[] {
  return repo.inventory.hosts.flatMap((host) => renderHost(repo, host, NO_SECRETS));
}

/**
 * The plan half of a pass, as the daemon runs it (`preparePass`, the code `tend run` and `tend plan` call):
 * render everything, index the renders, keep the hashes, compare with what the hosts reported. Only the
 * observation is served from memory instead of over SSH.
 */
export async function planFleet(repo: RepoSpec, observed: readonly ObservedHost[]): Promise<Plan> {
  const byHost = new Map(observed.map((host) => [host.host, host]));
  const pass = await preparePass(repo, undefined, { observe: () => Promise.resolve(byHost) });
  if (!pass.planResult.ok) throw new Error(`the bench plan was refused: ${pass.planResult.error.message}`);
  return pass.planResult.plan;
}

/** What observing a fleet that runs exactly `repo` would return: every file's hash, every unit running. */
export function convergedObservation(repo: RepoSpec): ObservedHost[] {
  const releases = new Map(repo.services.map((service) => [service.name, service.run.kind === 'artifact' ? service.run.sha256 : undefined]));
  const byHost = new Map<string, Map<string, ObservedService>>(repo.inventory.hosts.map((host) => [host.name, new Map()]));
  for (const rendered of renderFleet(repo)) {
    const release = releases.get(rendered.service);
    byHost.get(rendered.host)?.set(rendered.service, {
      service: rendered.service,
      files: new Map(rendered.files.map((file) => [file.path, file.sha256])),
      currentRelease: release,
      releases: release === undefined ? [] : [release],
      unit: { activeState: 'active', subState: 'running', invocationId: `run-${rendered.service}`, nRestarts: 0, needDaemonReload: false, mainPid: 4242, unitFileState: 'enabled' },
    });
  }
  return [...byHost].map(([host, services]) => ({ host, reachable: true, services, foreignUnits: [] }));
}

/** Host steps of a plan, for checking that a figure measured the change it claims. */
export function changedInstances(plan: Plan): { service: string; hosts: number }[] {
  return plan.services
    .map((service) => ({ service: service.service, hosts: service.batches.reduce((sum, batch) => sum + batch.length, 0) }))
    .filter((service) => service.hosts > 0);
}
