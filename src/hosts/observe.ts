import { asTendError } from '../errors/index.js';
import type { ObservedHost, ObservedService, ServicePackage } from './observed.js';
import { MAX_OBSERVE_OUTPUT_CHARS, parseObservation } from './observe-parser.js';
import { OBSERVE_SCRIPT, observeArgv } from './observe-script.js';
import type { RemoteRunner, RunTarget } from './remote-command.js';

export interface ObserveOptions {
  /** Default 60 s: the script reads a few files and asks systemctl once. */
  readonly timeoutMs?: number;
  /** The package runs placed on the host: their packages' state comes back on their services. */
  readonly packages?: readonly ServicePackage[];
}

/**
 * One round trip per host: the constant observe script on stdin of `sh -s` (under sudo: env files are
 * 0600 root), its output parsed strictly. `managedHint` names the services (or exact unit file names) tend
 * wants on this host, so that same-named files without the ownership marker are reported as foreign.
 *
 * Never throws for the host's sake: anything that makes the host unobservable (unreachable, host key,
 * auth, unexpected output) comes back as `reachable: false` with the TendError's code and message, and the
 * planner plans nothing there. A TendError of class `internal` (a bug in tend) is rethrown.
 */
export async function observeHost(
  pool: RemoteRunner,
  host: RunTarget,
  managedHint: readonly string[] = [],
  options: ObserveOptions = {},
): Promise<ObservedHost> {
  try {
    const packages = options.packages ?? [];
    const result = await pool.run(host, observeArgv(managedHint, packages.map((one) => one.package)), {
      sudo: true,
      stdin: OBSERVE_SCRIPT,
      timeoutMs: options.timeoutMs ?? 60_000,
      maxOutputBytes: MAX_OBSERVE_OUTPUT_CHARS,
    });
    return withPackages(parseObservation(host.name, result.stdout, result.stderr), packages);
  } catch (error) {
    const tendError = asTendError(error);
    if (tendError.errorClass === 'internal') throw tendError;
    return { host: host.name, reachable: false, code: tendError.code, errorClass: tendError.errorClass, message: tendError.message };
  }
}

/** Each package run's service gets its package's state (a service not on the host gets nothing). */
function withPackages(observed: Extract<ObservedHost, { reachable: true }>, packages: readonly ServicePackage[]): Extract<ObservedHost, { reachable: true }> {
  if (packages.length === 0) return observed;
  const services = new Map<string, ObservedService>(observed.services);
  for (const { service, package: name } of packages) {
    const one = services.get(service);
    const installed = observed.packages?.get(name);
    if (one !== undefined && installed !== undefined) services.set(service, { ...one, installedPackage: installed });
  }
  return { ...observed, services };
}

/** observeHost for many hosts at once; the pool bounds how many are worked on concurrently. */
export async function observeHosts(
  pool: RemoteRunner,
  hosts: readonly RunTarget[],
  managedHint: (host: string) => readonly string[] = () => [],
  options: Omit<ObserveOptions, 'packages'> = {},
  packagesOf: (host: string) => readonly ServicePackage[] = () => [],
): Promise<Map<string, ObservedHost>> {
  const observed = await Promise.all(hosts.map((host) => observeHost(pool, host, managedHint(host.name), { ...options, packages: packagesOf(host.name) })));
  return new Map(observed.map((o) => [o.host, o]));
}

