import { InternalError, TendError } from '../errors/index.js';
import { APT_SOURCES_DIR, PACKAGE_KEEP_ROOT, packageKeepDir } from '../render/host-layout.js';
import type { RenderedAptRepository } from '../render/apt-sources.js';
import { aptFailureError } from './apt-errors.js';
import { writeFileAtomic, type RemoteFiles } from './file-transfer.js';
import type { RemoteRunner, RunTarget } from './remote-command.js';
import { DEBIAN_PACKAGE_NAME, DEBIAN_VERSION } from './observe-script.js';

/**
 * A service's Debian package on a host: the repositories' files, `apt-get update` for tend's repositories
 * only, the exact version installed non-interactively and held, its .deb kept for a rollback with no
 * repository. Each operation is one fixed script (a constant) with package, version and names as
 * positional parameters; apt's own failures are classified by apt-errors.ts.
 */

/** apt-get's exit code for every error it reports. */
const APT_FAILED = 100;
/** The install script's "no kept .deb of that version: the repository is needed". */
const EXIT_NEEDS_REPOSITORY = 67;
/** The install script's "installed, but not by tend": never overwritten. */
const EXIT_NOT_OURS = 68;
/** apt-mark could not hold what was installed. */
const EXIT_HOLD_FAILED = 69;

const REPOSITORY_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** How long apt waits for dpkg's lock before it reports it held (then E_APT_LOCKED, retried by the budget). */
const LOCK_WAIT_SECONDS = 60;
const UPDATE_TIMEOUT_MS = 5 * 60_000;
const INSTALL_TIMEOUT_MS = 10 * 60_000;

/** Keyring first: a source never names a keyring that is not there yet. Both written atomically. */
export async function writeAptRepositories(pool: RemoteFiles, host: RunTarget, repositories: readonly RenderedAptRepository[]): Promise<void> {
  for (const repository of repositories) {
    if (repository.keyring !== undefined) await writeFileAtomic(pool, host, repository.keyring.path, repository.keyring.bytes, repository.keyring.mode);
    await writeFileAtomic(pool, host, repository.sources.path, Buffer.from(repository.sources.content, 'utf8'), repository.sources.mode);
  }
}

/**
 * $@ repository names. `apt-get update` reads only tend's sources of those repositories (copied into a
 * private directory, the host's own sources.list left out) and keeps every other list it has; with none
 * named it updates the host's own sources. --error-on=any: without it an unreachable repository is only a
 * warning and the exit code 0.
 */
const UPDATE_SCRIPT = `set -u
export LC_ALL=C
if [ $# -eq 0 ]; then exec apt-get update -q --error-on=any -o DPkg::Lock::Timeout=${LOCK_WAIT_SECONDS} 2>&1; fi
dir=$(mktemp -d /tmp/tend-apt-sources.XXXXXXXX) || exit 1
trap 'rm -rf -- "$dir"' EXIT
for name in "$@"; do
  cp -- ${APT_SOURCES_DIR}/tend-"$name".sources "$dir/" || exit 1
done
apt-get update -q --error-on=any -o DPkg::Lock::Timeout=${LOCK_WAIT_SECONDS} -o Dir::Etc::sourcelist=/dev/null -o Dir::Etc::sourceparts="$dir" -o APT::Get::List-Cleanup=0 2>&1
`;

/** `apt-get update` for the named tend repositories only (all of the host's own sources when none are named). */
export async function aptUpdate(pool: RemoteRunner, host: RunTarget, repositories: readonly string[]): Promise<void> {
  if (repositories.some((name) => !REPOSITORY_NAME.test(name))) throw new InternalError(`invalid apt repository name among ${repositories.join(', ')}`);
  const result = await pool.run(host, ['sh', '-c', UPDATE_SCRIPT, 'sh', ...repositories], { sudo: true, timeoutMs: UPDATE_TIMEOUT_MS, okExitCodes: [APT_FAILED] });
  const command = repositories.length === 0 ? 'apt-get update' : `apt-get update (${repositories.map((name) => `tend-${name}`).join(', ')})`;
  if (result.code !== 0) throw aptFailureError(host.name, command, result.code, `${result.stdout}\n${result.stderr}`);
}

/**
 * $1 package, $2 version ('' = the repository's candidate), $3 `kept` (only from a kept .deb, else exit 67)
 * or `repository`. The package must be absent or installed by tend (its held-version record equal to the
 * installed version), else exit 68 and nothing changes. A kept .deb of the version is installed by path,
 * with no repository; otherwise apt downloads into the keep directory, so the .deb stays for the next
 * rollback. Whatever dpkg has afterwards, success or not, is recorded and held: tend's own half-installed
 * package stays tend's, and an unattended upgrade cannot move it.
 */
const INSTALL_SCRIPT = `set -u
export LC_ALL=C DEBIAN_FRONTEND=noninteractive
pkg=$1 ver=$2 mode=$3
keep=${PACKAGE_KEEP_ROOT}/$pkg
record=$keep/held-version
installed_version() {
  st=$(dpkg-query -W -f '\${Status}|\${Version}' -- "$pkg" 2>/dev/null) || return 0
  case \${st%%|*} in *' not-installed'|*' config-files') ;; *) printf '%s' "\${st#*|}" ;; esac
}
umask 022
mkdir -p -- "$keep/partial" || exit 1
have=$(installed_version)
rec=''
if [ -f "$record" ] && [ ! -L "$record" ]; then IFS= read -r rec < "$record" || true; fi
if [ -n "$have" ] && [ "$have" != "$rec" ]; then
  echo "tend-apt not-ours installed=$have tend=\${rec:--}"
  exit ${EXIT_NOT_OURS}
fi
deb=''
if [ -n "$ver" ]; then
  for f in "$keep"/*.deb; do
    [ -f "$f" ] || continue
    [ "$(dpkg-deb -f "$f" Package 2>/dev/null)" = "$pkg" ] || continue
    if [ "$(dpkg-deb -f "$f" Version 2>/dev/null)" = "$ver" ]; then deb=$f; break; fi
  done
fi
if [ -z "$deb" ] && [ "$mode" = kept ]; then echo 'tend-apt needs-repository'; exit ${EXIT_NEEDS_REPOSITORY}; fi
set -- -y -q --no-install-recommends --allow-downgrades --allow-change-held-packages -o Dpkg::Options::=--force-confold -o DPkg::Lock::Timeout=${LOCK_WAIT_SECONDS}
if [ -n "$deb" ]; then
  apt-get install "$@" "$deb" 2>&1; rc=$?
  from=kept
else
  target=$pkg
  [ -z "$ver" ] || target=$pkg=$ver
  apt-get install "$@" -o Dir::Cache::Archives="$keep/" "$target" 2>&1; rc=$?
  from=repository
fi
# Only the package's own .debs are kept; its dependencies stay installed, their files go.
for f in "$keep"/*.deb; do
  [ -f "$f" ] || continue
  case \${f##*/} in "$pkg"_*) ;; *) rm -f -- "$f" ;; esac
done
now=$(installed_version)
if [ -n "$now" ]; then
  printf '%s\\n' "$now" > "$record.tmp" && mv -f -- "$record.tmp" "$record"
  if ! apt-mark hold "$pkg" >/dev/null 2>&1; then
    echo 'tend-apt hold-failed'
    [ $rc -ne 0 ] || rc=${EXIT_HOLD_FAILED}
  fi
fi
[ $rc -ne 0 ] || echo "tend-apt installed version=$now from=$from"
exit $rc
`;

export type PackageInstall =
  | { readonly result: 'installed'; readonly version: string; readonly from: 'kept' | 'repository' }
  /** No .deb of that version is kept on the host: install from the repository instead. */
  | { readonly result: 'needs-repository' };

/**
 * Installs `debianPackage` at `version` (undefined: the repository's candidate) and holds it. With `kept`,
 * only from a .deb kept on the host (a rollback needs no repository); `needs-repository` says there is none.
 * Throws E_PACKAGE_NOT_OURS (conflict) for a package tend did not install, and apt's failures classified.
 */
export async function installPackage(
  pool: RemoteRunner,
  host: RunTarget,
  debianPackage: string,
  version: string | undefined,
  mode: 'kept' | 'repository',
): Promise<PackageInstall> {
  if (!DEBIAN_PACKAGE_NAME.test(debianPackage)) throw new InternalError(`invalid package name ${JSON.stringify(debianPackage)}`);
  if (version !== undefined && !DEBIAN_VERSION.test(version)) throw new InternalError(`invalid package version ${JSON.stringify(version)}`);
  const result = await pool.run(host, ['sh', '-c', INSTALL_SCRIPT, 'sh', debianPackage, version ?? '', mode], {
    sudo: true,
    timeoutMs: INSTALL_TIMEOUT_MS,
    okExitCodes: [APT_FAILED, EXIT_NEEDS_REPOSITORY, EXIT_NOT_OURS, EXIT_HOLD_FAILED],
    writesTo: packageKeepDir(debianPackage),
  });
  const target = version === undefined ? debianPackage : `${debianPackage}=${version}`;
  const command = mode === 'kept' ? `apt-get install ${packageKeepDir(debianPackage)}/${debianPackage}_${version ?? ''}_*.deb` : `apt-get install ${target}`;
  const lines = result.stdout.split('\n');
  if (result.code === EXIT_NEEDS_REPOSITORY) return { result: 'needs-repository' };
  if (result.code === EXIT_NOT_OURS) {
    const found = /^tend-apt not-ours installed=(\S+) tend=(\S+)$/.exec(lines.find((line) => line.startsWith('tend-apt not-ours')) ?? '');
    const installed = found?.[1] ?? 'another version';
    const recorded = found?.[2] === undefined || found[2] === '-' ? 'tend never installed it' : `tend installed ${found[2]}`;
    throw new TendError('E_PACKAGE_NOT_OURS', 'conflict', `${host.name}: ${debianPackage} ${installed} is installed, but not by tend (${recorded}); not overwritten`, {
      where: { host: host.name, command },
    });
  }
  if (result.code !== 0) throw aptFailureError(host.name, command, result.code, `${result.stdout}\n${result.stderr}`);
  const done = /^tend-apt installed version=(\S+) from=(kept|repository)$/.exec(lines.find((line) => line.startsWith('tend-apt installed ')) ?? '');
  if (done?.[1] === undefined || (done[2] !== 'kept' && done[2] !== 'repository')) {
    throw new TendError('E_APT_FAILED', 'conflict', `${host.name}: \`${command}\` exited 0 without saying what it installed`, { where: { host: host.name, command } });
  }
  return { result: 'installed', version: done[1], from: done[2] };
}

/** $1 package, $2 how many .debs to keep, $3 the version in use (never removed). Newest first by mtime. */
const PRUNE_SCRIPT = `set -u
keep=${PACKAGE_KEEP_ROOT}/$1
n=0
for f in $(ls -1t -- "$keep" 2>/dev/null); do
  case $f in "$1"_*.deb) ;; *) continue ;; esac
  [ "$(dpkg-deb -f "$keep/$f" Version 2>/dev/null)" = "$3" ] && continue
  n=$((n + 1))
  [ $n -lt "$2" ] || rm -f -- "$keep/$f"
done
`;

/** Keeps the newest `count` .debs of a package (the one in use not counted, never removed). */
export async function pruneKeptPackages(pool: RemoteRunner, host: RunTarget, debianPackage: string, count: number, inUse: string): Promise<void> {
  if (!DEBIAN_PACKAGE_NAME.test(debianPackage)) throw new InternalError(`invalid package name ${JSON.stringify(debianPackage)}`);
  await pool.run(host, ['sh', '-c', PRUNE_SCRIPT, 'sh', debianPackage, String(Math.max(1, count)), inUse], { sudo: true });
}
