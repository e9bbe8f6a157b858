#!/bin/sh
# Builds the Debian package of tend: scripts/build-deb.sh [OUT_DIR]  (default: build/deb)
#
# The package carries its own Node runtime, so the reconciler machine needs none (Debian 12's nodejs is 18,
# older than tend's engines.node): /usr/lib/tend holds the npm package (bin, dist, schemas, deploy, the
# example repo) with its production node_modules, and /usr/lib/tend/node, a copy of the Node binary that
# built it ($TEND_DEB_NODE, default the `node` on PATH; at least 20.19). tend.service runs
# /usr/lib/tend/node /usr/lib/tend/bin/tend.js, and /usr/bin/tend does the same for a person.
# Also installed: the unit, its sysusers.d and tmpfiles.d entries (the tend user; /etc/tend, /var/lib/tend,
# /var/lib/tend-file-sd with their owners), the example config, the alert rules and the Grafana dashboard.
#
# Needs dpkg-deb, npm and the Node binary; the npm dependencies come from npm's cache or registry.
# TEND_DEB_SKIP_BUILD=1: dist/ is already built (npm run build), do not build it again.
# Prints the path of the .deb.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$repo/build/deb}
node_bin=$(readlink -f "${TEND_DEB_NODE:-$(command -v node)}")

fail() { echo "build-deb: $*" >&2; exit 1; }
command -v dpkg-deb >/dev/null || fail "dpkg-deb is missing (apt-get install dpkg)"
[ -x "$node_bin" ] || fail "no Node binary at $node_bin (set TEND_DEB_NODE)"
"$node_bin" -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' ||
  fail "$node_bin is Node $("$node_bin" --version); tend needs 20.19 or newer"

cd "$repo"
version=$("$node_bin" -p 'require("./package.json").version')
arch=$(dpkg --print-architecture)
[ "${TEND_DEB_SKIP_BUILD:-}" = 1 ] || npm run --silent build >&2

work=$(mktemp -d "${TMPDIR:-/tmp}/tend-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root

# The npm package exactly as `npm pack` makes it (package.json `files`), installed as `npm install -g` would,
# with production dependencies only. No install scripts and no optional dependencies: ssh2's optional
# native crypto binding and cpu-features would need a compiler, and tend needs neither (pure JS fallbacks).
npm pack --silent --ignore-scripts --pack-destination "$work" >/dev/null
npm install --global --silent --prefix "$work/npm" --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund --prefer-offline \
  "$work/tend-$version.tgz" >&2
mkdir -p "$root/usr/lib"
mv "$work/npm/lib/node_modules/tend" "$root/usr/lib/tend"
install -m 0755 "$node_bin" "$root/usr/lib/tend/node"

install -d "$root/usr/bin"
cat > "$root/usr/bin/tend" <<'WRAPPER'
#!/bin/sh
exec /usr/lib/tend/node /usr/lib/tend/bin/tend.js "$@"
WRAPPER
chmod 0755 "$root/usr/bin/tend"

install -D -m 0644 systemd/tend.service "$root/usr/lib/systemd/system/tend.service"
install -D -m 0644 systemd/tend.sysusers "$root/usr/lib/sysusers.d/tend.conf"
install -D -m 0644 systemd/tend.tmpfiles "$root/usr/lib/tmpfiles.d/tend.conf"
install -D -m 0644 systemd/tend.yml "$root/usr/share/doc/tend/examples/config.yml"
install -D -m 0644 deploy/alerts.yml "$root/usr/share/tend/prometheus/alerts.yml"
install -D -m 0644 deploy/grafana-dashboard.json "$root/usr/share/tend/grafana/tend-dashboard.json"
install -D -m 0644 LICENSE "$root/usr/share/doc/tend/copyright"
# The Node runtime's own licence, where the binary's distribution put it.
for license in "$(dirname "$node_bin")/../share/doc/node/LICENSE" /usr/share/doc/nodejs/LICENSE /usr/share/doc/nodejs/copyright; do
  if [ -f "$license" ]; then install -m 0644 "$license" "$root/usr/share/doc/tend/node-copyright"; break; fi
done

install -d "$root/DEBIAN"
cat > "$root/DEBIAN/control" <<CONTROL
Package: tend
Version: $version
Architecture: $arch
Maintainer: tend developers <tend@localhost>
Section: admin
Priority: optional
Depends: git (>= 1:2.39), systemd, libc6 (>= 2.28), libstdc++6, libgcc-s1
Installed-Size: $(du -sk "$root" | cut -f1)
Description: GitOps reconciler for plain Linux hosts
 tend follows a git repository of service specs, diffs each valid commit
 against what the hosts run, and rolls changes out over SSH, host by host,
 gated by health probes; a change that breaks is reverted in git.
 This package carries its own Node.js runtime (/usr/lib/tend/node).
CONTROL

cat > "$root/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
  systemd-sysusers /usr/lib/sysusers.d/tend.conf
  systemd-tmpfiles --create /usr/lib/tmpfiles.d/tend.conf
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    # An upgrade restarts a running tend (SIGTERM lets it finish its host step). A first install starts
    # nothing: tend needs /etc/tend/config.yml first.
    if [ -n "${2:-}" ]; then systemctl try-restart tend.service || true; fi
  fi
  if [ ! -e /etc/tend/config.yml ]; then
    echo "tend: write /etc/tend/config.yml (example: /usr/share/doc/tend/examples/config.yml), then: systemctl enable --now tend"
  fi
fi
POSTINST

cat > "$root/DEBIAN/prerm" <<'PRERM'
#!/bin/sh
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
  systemctl disable --now tend.service || true
fi
PRERM

# /etc/tend (keys, secrets, config) and /var/lib/tend (the journal) are left in place, on purge too: they
# are the operator's, and the journal records what cannot be recomputed.
cat > "$root/DEBIAN/postrm" <<'POSTRM'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
POSTRM
chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"

mkdir -p "$out"
deb=$out/tend_${version}_${arch}.deb
# gzip: every dpkg reads it, and it is fast; xz would save a third of the size at ten times the time.
dpkg-deb --root-owner-group -Zgzip --build "$root" "$deb" >/dev/null
echo "$deb"
