import { createHash } from 'node:crypto';
import { InternalError } from '../errors/index.js';
import type { HostSpec, RepoSpec, ServiceSpec } from '../spec/model.js';
import { renderEnvFile } from './env-file.js';
import { envFilePath, timerServiceName, timerUnitName, unitPath, UNIT_DIR } from './host-layout.js';
import type { SecretMode, SecretResolver } from './secrets.js';
import { renderTimerServiceUnit, renderTimerUnit } from './timer-units.js';
import { orderingSettings, renderServiceUnit } from './unit-file.js';
import { checkServiceName, checkTimerName } from './unit-names.js';

export type RenderedFileKind = 'unit' | 'env' | 'timer' | 'timer-service';

/** Unit files are world-readable like every unit; the env file holds secrets, so only root reads it. */
export const UNIT_FILE_MODE = 0o644;
export const ENV_FILE_MODE = 0o600;

export interface RenderedFile {
  /** Absolute path on the host. */
  readonly path: string;
  /** The exact text written, `\n` line ends, one trailing newline. Written as UTF-8. */
  readonly content: string;
  readonly mode: number;
  readonly kind: RenderedFileKind;
  /** Lowercase hex sha256 of the UTF-8 bytes of `content`, as observe reports it for files on a host. */
  readonly sha256: string;
}

/**
 * Every file tend keeps on one host for one service, sorted by path. `secrets` says how the env file was
 * rendered: a `'masked'` render holds `<secret:name>` placeholders and is for display only; writing code
 * takes `RenderedService<'resolved'>` so the type checker keeps the two apart.
 */
export interface RenderedService<M extends SecretMode = SecretMode> {
  readonly service: string;
  readonly host: string;
  readonly secrets: M;
  readonly files: readonly RenderedFile[];
}

export interface RenderServiceInput<M extends SecretMode> {
  readonly service: ServiceSpec;
  readonly host: HostSpec;
  /** Names of all services tend runs on this host; `after:` entries not among them get no After=/Wants=. */
  readonly servicesOnHost: ReadonlySet<string>;
  readonly secrets: SecretResolver<M>;
}

/** Pure: the same inputs give the same bytes, so a converged host shows no diff. */
export function renderService<M extends SecretMode>(input: RenderServiceInput<M>): RenderedService<M> {
  const { service, host, servicesOnHost, secrets } = input;
  checkServiceName(service);
  const files: RenderedFile[] = [
    file(unitPath(service.name), renderServiceUnit(service, servicesOnHost), UNIT_FILE_MODE, 'unit'),
    file(envFilePath(service.name), renderEnvFile(service, secrets, host), ENV_FILE_MODE, 'env'),
  ];
  const timerNames = new Set<string>();
  for (const timer of service.timers) {
    checkTimerName(service, timer);
    if (timerNames.has(timer.name)) throw new InternalError(`timer ${timer.name} of ${service.name} is declared twice`);
    timerNames.add(timer.name);
    files.push(
      file(`${UNIT_DIR}/${timerUnitName(service.name, timer.name)}`, renderTimerUnit(service, timer), UNIT_FILE_MODE, 'timer'),
      file(`${UNIT_DIR}/${timerServiceName(service.name, timer.name)}`, renderTimerServiceUnit(service, timer), UNIT_FILE_MODE, 'timer-service'),
    );
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (let i = 1; i < files.length; i++) {
    // `web` with timer `x` and a service named `web-x` would both own web-x.service.
    if (files[i]?.path === files[i - 1]?.path) throw new InternalError(`two files of ${service.name} render to ${files[i]?.path}`);
  }
  return { service: service.name, host: host.name, secrets: secrets.mode, files };
}

function file(path: string, content: string, mode: number, kind: RenderedFileKind): RenderedFile {
  return { path, content, mode, kind, sha256: createHash('sha256').update(content, 'utf8').digest('hex') };
}

/**
 * Host -> its services, built once per repo from each service's group: asking every service about every
 * host is hosts × services questions, 300,000 for a fleet of 2,000 hosts and 150 services that places
 * 2,500 instances. Weakly keyed, so it lives as long as the repo it describes.
 */
const servicesByHost = new WeakMap<RepoSpec, ReadonlyMap<string, readonly ServiceSpec[]>>();

function indexServicesByHost(repo: RepoSpec): ReadonlyMap<string, readonly ServiceSpec[]> {
  const index = new Map<string, ServiceSpec[]>();
  for (const service of repo.services) {
    for (const host of repo.inventory.groups.get(service.group) ?? []) {
      const list = index.get(host);
      if (list === undefined) index.set(host, [service]);
      // A group that lists a host twice still runs the service there once.
      else if (list.at(-1) !== service) list.push(service);
    }
  }
  return index;
}

function servicesIndexOf(repo: RepoSpec): ReadonlyMap<string, readonly ServiceSpec[]> {
  let index = servicesByHost.get(repo);
  if (index === undefined) {
    index = indexServicesByHost(repo);
    servicesByHost.set(repo, index);
  }
  return index;
}

/** The services whose group lists this host, sorted by name (the order of `RepoSpec.services`). */
export function servicesOnHost(repo: RepoSpec, host: string): ServiceSpec[] {
  return [...(servicesIndexOf(repo).get(host) ?? [])];
}

/**
 * A service's files depend on the host only through which of its `after:` services run there too (its
 * After=/Wants= line) and, for an env file with `{{ host.* }}` values, the host itself; hosts that agree
 * on those share one render. Without this, 150 services on each
 * of 2,000 hosts rendered and hashed 300,000 units to find 150 distinct ones, and held them all. Kept per
 * repo and per resolver, as weak keys: a new commit or new secrets render afresh, and nothing outlives them.
 */
const sharedFiles = new WeakMap<RepoSpec, WeakMap<SecretResolver<SecretMode>, Map<string, readonly RenderedFile[]>>>();

function filesShared(repo: RepoSpec, secrets: SecretResolver<SecretMode>): Map<string, readonly RenderedFile[]> {
  let byResolver = sharedFiles.get(repo);
  if (byResolver === undefined) {
    byResolver = new WeakMap();
    sharedFiles.set(repo, byResolver);
  }
  let files = byResolver.get(secrets);
  if (files === undefined) {
    files = new Map();
    byResolver.set(secrets, files);
  }
  return files;
}

/**
 * Every service of one host, for `tend render` and the planner. Also refuses two services that would
 * write the same file on the host (a timer unit named like another service).
 */
export function renderHost<M extends SecretMode>(repo: RepoSpec, host: HostSpec, secrets: SecretResolver<M>): RenderedService<M>[] {
  const services = servicesIndexOf(repo).get(host.name) ?? [];
  // Built only when a render needs it: a fleet whose services share their renders would otherwise build a
  // set per host, 300,000 entries for 150 services on 2,000 hosts, only to throw it away.
  let names: ReadonlySet<string> | undefined;
  const namesOnHost = (): ReadonlySet<string> => (names ??= new Set(services.map((service) => service.name)));
  const shared = filesShared(repo, secrets);
  const rendered = services.map((service): RenderedService<M> => {
    // Most services come after nothing and use no host value: then every host renders them alike, and the
    // name is the whole key. One whose env file uses {{ host.* }} renders per host.
    const ordering = service.after.length === 0 ? '' : `\u0000${orderingSettings(service, namesOnHost()).map(([name, value]) => `${name}=${value}`).join('\u0000')}`;
    const key = `${service.name}${ordering}${service.hostDependent ? `\u0001${host.name}` : ''}`;
    const files = shared.get(key);
    if (files !== undefined) return { service: service.name, host: host.name, secrets: secrets.mode, files };
    const one = renderService({ service, host, servicesOnHost: namesOnHost(), secrets });
    shared.set(key, one.files);
    return one;
  });
  refuseSharedPaths(host, rendered);
  return rendered;
}

/**
 * Two services must not write one file on a host. A service's unit and env file are named after the
 * service, and names are unique, so only a timer's units can take another's path (`web` with timer `x`
 * and a service `web-x`): without timers there is nothing to compare, and a host of 150 services builds
 * no map of its 300 paths.
 */
function refuseSharedPaths(host: HostSpec, rendered: readonly RenderedService[]): void {
  if (rendered.every((result) => result.files.every((file) => file.kind === 'unit' || file.kind === 'env'))) return;
  const owner = new Map<string, string>();
  for (const result of rendered) {
    for (const { path } of result.files) {
      const other = owner.get(path);
      if (other !== undefined) throw new InternalError(`services ${other} and ${result.service} both render ${path} on ${host.name}`);
      owner.set(path, result.service);
    }
  }
}

/** For code that writes to hosts and receives a render from elsewhere: a masked one is tend's bug. */
export function assertResolved(rendered: RenderedService): asserts rendered is RenderedService<'resolved'> {
  if (rendered.secrets !== 'resolved') {
    throw new InternalError(`refusing to use the masked render of ${rendered.service} for ${rendered.host}: it holds secret placeholders`);
  }
}
