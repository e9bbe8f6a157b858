import { ENV_DIR, OWNERSHIP_MARKER, PACKAGE_KEEP_ROOT, RELEASE_ROOT, UNIT_DIR } from '../render/host-layout.js';
import { SERVICE_NAME_MAX_LENGTH } from '../spec/service-names.js';
import { quoteWord } from './shell-quote.js';

/**
 * The one script observation runs on a host: a constant, sent on stdin to `sh -s` under sudo (env files
 * are 0600 root). It splices in no spec value: the only inputs are positional parameters (names of units
 * and services the caller wants checked for foreign files), validated here and again by the script.
 *
 * Output, line by line (observe-parser.ts reads it strictly):
 *   tend-observe version=1
 *   file kind=unit|env path=<abs> service=<name> sha256=<hex>   every file whose first line is the marker
 *   current service=<name> release=<sha256>|-                    where `current` points, per service
 *   release service=<name> sha256=<hex>                          kept releases, newest first
 *   foreign path=<abs>                                           a requested name that exists without marker
 *   package name=<pkg> version=<v>|- held=yes|no tend=<v>|-      per requested package: the version dpkg
 *                                                                has fully installed, its hold, and the
 *                                                                version tend recorded as holding
 *   systemctl-show begin
 *   <raw `systemctl show` blocks: Key=Value lines, a blank line between units>
 *   systemctl-show end rc=<exit code of systemctl>
 *   end
 * A file's service comes from its second line (`# tend-service: <name>`, as render writes it); a unit or env
 * file without it is attributed by its name; a timer without it is not reported (and so stays untouched).
 */
export const OBSERVE_FORMAT_VERSION = 1;

/** The `systemctl show` properties observation asks for, in the order the parser expects none of. */
export const SHOW_PROPERTIES = [
  'Id',
  'ActiveState',
  'SubState',
  'InvocationID',
  'NRestarts',
  'NeedDaemonReload',
  'MainPID',
  'UnitFileState',
] as const;

/** Unit and file names the script will look at: systemd's unit-name characters, no escapes, no slash. */
export const SAFE_FILE_NAME = /^[A-Za-z0-9_.@:-]{1,200}$/;

export const OBSERVE_SCRIPT = `set -u
export LC_ALL=C
unit_dir=${quoteWord(UNIT_DIR)}
env_dir=${quoteWord(ENV_DIR)}
release_root=${quoteWord(RELEASE_ROOT)}
deb_root=${quoteWord(PACKAGE_KEEP_ROOT)}
marker=${quoteWord(OWNERSHIP_MARKER)}
services=''
units=''
owned=''
foreign=''
echo 'tend-observe version=${OBSERVE_FORMAT_VERSION}'
safe_name() { case $1 in ''|*[!A-Za-z0-9_.@:-]*) return 1;; esac; return 0; }
safe_service() {
  case $1 in ''|[!a-z]*|*[!a-z0-9-]*) return 1;; esac
  [ \${#1} -le ${SERVICE_NAME_MAX_LENGTH} ]
}
add_word() { case " $2 " in *" $1 "*) return 1;; esac; return 0; }
# $1 path. 0: the marker is on its first line, $svc says whose it is; 1: a file without the marker;
# 2: not a regular file, or no usable service name.
attribute() {
  f=$1
  if [ -L "$f" ] || [ ! -f "$f" ] || [ ! -r "$f" ]; then return 2; fi
  l1=''; l2=''
  { IFS= read -r l1; IFS= read -r l2; } < "$f" 2>/dev/null
  [ "$l1" = "$marker" ] || return 1
  name=\${f##*/}
  svc=\${l2#'# tend-service: '}
  if [ "$svc" = "$l2" ] || ! safe_service "$svc"; then
    case $name in
      *.service) svc=\${name%.service} ;;
      *.env) svc=\${name%.env} ;;
      *) return 2 ;;
    esac
    safe_service "$svc" || return 2
  fi
  return 0
}
report() {
  attribute "$1" || return $?
  owned="$owned $1"
  if add_word "$svc" "$services"; then services="$services $svc"; fi
  return 0
}
for f in "$unit_dir"/*.service "$unit_dir"/*.timer; do
  safe_name "\${f##*/}" || continue
  if report "$f"; then units="$units \${f##*/}"; fi
done
for f in "$env_dir"/*.env; do
  safe_name "\${f##*/}" || continue
  report "$f"
done
# One sha256sum for every owned file: a fork per file was most of a host's observe time. A file that
# vanished or changed owner meanwhile is left out, as if it had never been there.
if [ -n "$owned" ]; then
  sums=$(sha256sum -- $owned 2>/dev/null)
  while read -r sum f; do
    [ -n "$f" ] || continue
    attribute "$f" || continue
    case $f in "$unit_dir"/*) kind=unit ;; *) kind=env ;; esac
    echo "file kind=$kind path=$f service=$svc sha256=$sum"
  done <<EOF_SUMS
$sums
EOF_SUMS
fi
set -f
for svc in $services; do
  dir=$release_root/$svc
  cur=-
  if [ -L "$dir/current" ]; then
    t=$(readlink -- "$dir/current") || t=''
    t=\${t%/}
    t=\${t##*/}
    case $t in *[!0-9a-f]*) ;; *) [ \${#t} -eq 64 ] && cur=$t ;; esac
  fi
  echo "current service=$svc release=$cur"
  if [ -d "$dir" ] && [ ! -L "$dir" ]; then
    for r in $(ls -1t -- "$dir"); do
      case $r in *[!0-9a-f]*) continue ;; esac
      [ \${#r} -eq 64 ] && [ -d "$dir/$r" ] && echo "release service=$svc sha256=$r"
    done
  fi
  if add_word "$svc.service" "$units"; then units="$units $svc.service"; fi
done
for want in "$@"; do
  safe_name "$want" || continue
  case $want in
    package:*) continue ;;
  esac
  case $want in
    *.service|*.timer) paths="$unit_dir/$want" ;;
    *) paths="$unit_dir/$want.service $env_dir/$want.env" ;;
  esac
  for p in $paths; do
    if [ -e "$p" ] || [ -L "$p" ]; then
      if add_word "$p" "$owned $foreign"; then foreign="$foreign $p"; echo "foreign path=$p"; fi
    fi
  done
done
# A version is reported only when dpkg has it fully installed: a half-configured package (a failed
# postinst) is reported as '-', so the plan installs again rather than calling it converged.
for want in "$@"; do
  case $want in package:*) ;; *) continue ;; esac
  pkg=\${want#package:}
  case $pkg in ''|[!a-z0-9]*|*[!a-z0-9+.-]*) continue ;; esac
  ver=-; held=no; rec=-
  if st=$(dpkg-query -W -f '\${Status}|\${Version}' -- "$pkg" 2>/dev/null); then
    status=\${st%%|*}; v=\${st#*|}
    case $status in 'hold '*) held=yes ;; esac
    case $status in *' installed') [ -n "$v" ] && ver=$v ;; esac
  fi
  f=$deb_root/$pkg/held-version
  if [ -f "$f" ] && [ ! -L "$f" ]; then
    IFS= read -r rec < "$f" || true
    [ -n "$rec" ] || rec=-
  fi
  echo "package name=$pkg version=$ver held=$held tend=$rec"
done
echo 'systemctl-show begin'
rc=0
if [ -n "$units" ]; then
  systemctl show --all -p ${SHOW_PROPERTIES.join(',')} -- $units || rc=$?
fi
echo "systemctl-show end rc=$rc"
echo 'end'
`;

/** A Debian package name as the script accepts it (Debian's rules, as run.package is validated). */
export const DEBIAN_PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]+$/;

/** What tend accepts as a Debian version from a host or passes to one: Debian's characters, bounded. */
export const DEBIAN_VERSION = /^[0-9][A-Za-z0-9.+~:-]{0,255}$/;

/**
 * argv for the script: services and unit names to check for foreign files, then the Debian packages to
 * report, unsafe names dropped.
 */
export function observeArgv(managedHint: readonly string[] = [], packages: readonly string[] = []): string[] {
  const names = [...new Set(managedHint.filter((name) => SAFE_FILE_NAME.test(name)))].sort();
  const wanted = [...new Set(packages.filter((name) => DEBIAN_PACKAGE_NAME.test(name)))].sort().map((name) => `package:${name}`);
  return ['sh', '-s', '--', ...names, ...wanted];
}
