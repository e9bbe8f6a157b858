/**
 * Where tend's files live on a host. One place, because render writes these paths into units, observe
 * reads them back and rollout writes them: the three must never disagree.
 */
export const UNIT_DIR = '/etc/systemd/system';
export const ENV_DIR = '/etc/tend/env';
export const RELEASE_ROOT = '/var/lib/tend/releases';

/** The first line of every file tend writes; a unit without it is never touched. */
export const OWNERSHIP_MARKER = '# Managed by tend. Local edits are overwritten; change the deploy repo instead.';

export function unitName(service: string): string {
  return `${service}.service`;
}

export function unitPath(service: string): string {
  return `${UNIT_DIR}/${unitName(service)}`;
}

export function timerUnitName(service: string, timer: string): string {
  return `${service}-${timer}.timer`;
}

/** The oneshot service a timer starts. */
export function timerServiceName(service: string, timer: string): string {
  return `${service}-${timer}.service`;
}

export function envFilePath(service: string): string {
  return `${ENV_DIR}/${service}.env`;
}

/** Releases of one service: `<dir>/<sha256>/<file>`, with `current` a symlink to the running one. */
export function releaseDir(service: string): string {
  return `${RELEASE_ROOT}/${service}`;
}

export function releasePath(service: string, sha256: string): string {
  return `${releaseDir(service)}/${sha256}`;
}

/** Units point at `current`, so a new release changes the symlink, not the unit. */
export function currentArtifactPath(service: string, fileName: string): string {
  return `${releaseDir(service)}/current/${fileName}`;
}

/** apt's own directories for third-party keys and deb822 sources; tend's files are the `tend-` ones. */
export const APT_KEYRING_DIR = '/etc/apt/keyrings';
export const APT_SOURCES_DIR = '/etc/apt/sources.list.d';

export function aptKeyringPath(repository: string): string {
  return `${APT_KEYRING_DIR}/tend-${repository}.gpg`;
}

export function aptSourcesPath(repository: string): string {
  return `${APT_SOURCES_DIR}/tend-${repository}.sources`;
}

/**
 * The .deb files tend keeps per package (`<dir>/<package>/`), so a rollback reinstalls the previous version
 * with no repository, and the record of the version tend holds (`held-version`): a package without it, or
 * installed at another version, was not installed by tend and is never overwritten.
 */
export const PACKAGE_KEEP_ROOT = '/var/lib/tend/debs';

export function packageKeepDir(debianPackage: string): string {
  return `${PACKAGE_KEEP_ROOT}/${debianPackage}`;
}
