import type { ObservedService } from '../hosts/observed.js';
import type { ChangeReason, DesiredFile, DesiredFileKind, DesiredPlacement, HostStep, PackageChange } from './model.js';
import { compareText } from './compare-text.js';
import { shortHash } from './short-hash.js';

/** Kinds whose change means systemd must re-read its unit files before a restart takes effect. */
const SYSTEMD_KINDS: ReadonlySet<DesiredFileKind> = new Set(['unit', 'timer', 'timer-service']);

/**
 * Desired vs observed for one service on one reachable host. Comparison is by content hash only: render is
 * canonical, so equal hashes mean equal bytes and a converged host plans nothing.
 */
export function comparePlacement(desired: DesiredPlacement, observed: ObservedService | undefined): HostStep {
  if (observed === undefined) return createStep(desired);
  if (isUnchanged(desired, observed)) return unchangedStep(desired);

  const reasons: ChangeReason[] = [];
  const writes: DesiredFile[] = [];
  for (const file of sortedFiles(desired.files)) {
    const hash = observed.files.get(file.path);
    if (hash === file.sha256) continue;
    writes.push(file);
    reasons.push({ what: file.kind, detail: hash === undefined ? `${file.path} is missing` : `${file.path} differs` });
  }

  const desiredPaths = new Set(desired.files.map((file) => file.path));
  const deletes = [...observed.files.keys()].filter((path) => !desiredPaths.has(path)).sort();
  for (const path of deletes) reasons.push({ what: 'stale-file', detail: `${path} is no longer in the spec` });

  // A package run has no release of ours to compare: its version shows up in the rendered unit instead.
  const releaseChanges = desired.release !== undefined && desired.release !== observed.currentRelease;
  if (releaseChanges) {
    reasons.push({
      what: 'release',
      detail: `release ${shortHash(observed.currentRelease)} -> ${shortHash(desired.release)}`,
    });
  }

  const packageChange = packageChangeOf(desired, observed);
  if (packageChange !== undefined) reasons.push({ what: 'package', detail: describePackageChange(packageChange) });

  const unitReasons = unitStateReasons(observed);
  // A stale file we delete is always a unit or timer: the env file is the only other kind and it never goes away.
  const filesTouchSystemd = writes.some((file) => SYSTEMD_KINDS.has(file.kind)) || deletes.length > 0;
  const changes = writes.length > 0 || deletes.length > 0 || releaseChanges || packageChange !== undefined;
  const action = changes ? 'update' : unitReasons.length > 0 ? 'restart' : 'unchanged';

  return {
    host: desired.host,
    service: desired.service,
    action,
    reasons: [...reasons, ...unitReasons],
    writes,
    deletes,
    release: releaseChanges ? desired.release : undefined,
    releasePresent: releaseChanges && desired.release !== undefined && observed.releases.includes(desired.release),
    needsDaemonReload: filesTouchSystemd || observed.unit.needDaemonReload,
    ...(packageChange === undefined ? {} : { package: packageChange }),
  };
}

/**
 * Whether comparePlacement would find nothing to do, without building its step: the planner only names an
 * unchanged host, and a step per instance of a converged fleet is garbage the collector must free.
 */
export function isUnchanged(desired: DesiredPlacement, observed: ObservedService | undefined): boolean {
  return observed !== undefined && isConverged(desired, observed) && packageChangeOf(desired, observed) === undefined;
}

/**
 * The common case, every instance of a converged fleet on every pass, decided without building the lists a
 * change needs: every desired file there with its hash and no other (render never gives one path twice),
 * the release in place, the unit running and loaded. The full comparison below finds nothing in exactly
 * this case.
 */
function isConverged(desired: DesiredPlacement, observed: ObservedService): boolean {
  if (observed.files.size !== desired.files.length) return false;
  for (const file of desired.files) if (observed.files.get(file.path) !== file.sha256) return false;
  if (desired.release !== undefined && desired.release !== observed.currentRelease) return false;
  const { activeState, subState, needDaemonReload } = observed.unit;
  return activeState === 'active' && subState === 'running' && !needDaemonReload;
}

function unchangedStep(desired: DesiredPlacement): HostStep {
  return { host: desired.host, service: desired.service, action: 'unchanged', reasons: [], writes: [], deletes: [], release: undefined, releasePresent: false, needsDaemonReload: false };
}

/**
 * The package install a step needs, if any. Nothing when the observation did not report the package (it
 * cannot tell), or when the installed version is the pinned one, or any version when none is pinned.
 */
function packageChangeOf(desired: DesiredPlacement, observed: ObservedService): PackageChange | undefined {
  const wanted = desired.package;
  const installed = observed.installedPackage;
  if (wanted === undefined || installed === undefined || installed.name !== wanted.name) return undefined;
  if (installed.version !== undefined && (wanted.version === undefined || sameDebianVersion(installed.version, wanted.version))) return undefined;
  return { name: wanted.name, from: installed.version, to: wanted.version };
}

/** dpkg reads a missing epoch as 0 and prints none for 0: `0:1.2-1` and `1.2-1` are one version. */
function sameDebianVersion(a: string, b: string): boolean {
  const withoutZeroEpoch = (version: string): string => version.replace(/^0+:/, '');
  return withoutZeroEpoch(a) === withoutZeroEpoch(b);
}

/** `nginx 1.4.2-1 → 1.4.3-1`, `nginx not installed → 1.4.3-1`, `nginx not installed → the repository's version`. */
export function describePackageChange(change: PackageChange): string {
  return `${change.name} ${change.from ?? 'not installed'} → ${change.to ?? "the repository's version"}`;
}

function createStep(desired: DesiredPlacement): HostStep {
  const writes = sortedFiles(desired.files);
  const install = desired.package === undefined ? undefined : { name: desired.package.name, from: undefined, to: desired.package.version };
  return {
    host: desired.host,
    service: desired.service,
    action: 'create',
    reasons: [{ what: 'missing', detail: `${desired.service} is not on ${desired.host}` }],
    writes,
    deletes: [],
    release: desired.release,
    // Nothing of the service was observed, so nothing tells us a release is already there.
    releasePresent: false,
    needsDaemonReload: writes.some((file) => SYSTEMD_KINDS.has(file.kind)),
    ...(install === undefined ? {} : { package: install }),
  };
}

function unitStateReasons(observed: ObservedService): ChangeReason[] {
  const reasons: ChangeReason[] = [];
  const { activeState, subState, needDaemonReload } = observed.unit;
  if (activeState !== 'active' || subState !== 'running') {
    reasons.push({ what: 'inactive', detail: `unit is ${activeState}/${subState}, not active/running` });
  }
  if (needDaemonReload) reasons.push({ what: 'daemon-reload', detail: 'systemd reports NeedDaemonReload=yes' });
  return reasons;
}

function sortedFiles(files: readonly DesiredFile[]): DesiredFile[] {
  return [...files].sort((a, b) => compareText(a.path, b.path));
}
