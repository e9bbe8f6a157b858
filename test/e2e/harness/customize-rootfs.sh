#!/bin/sh
# Turns a freshly debootstrapped bookworm tree ($1) into the image every test host boots.
# rootfs.ts hashes this file (with the package list) to key the cached tarball: any edit here
# rebuilds the image on the next run.
set -eu
r=$1

# Per-host identity is added when a host starts: machine-id on first boot, host key from
# host-keys/ or the harness cache, authorized_keys for the client key of this machine.
: > "$r/etc/machine-id"
rm -f "$r/var/lib/dbus/machine-id" "$r"/etc/ssh/ssh_host_*

mkdir -p "$r/etc/ssh/sshd_config.d"
cat > "$r/etc/ssh/sshd_config.d/tend-e2e.conf" <<'CONF'
# One ed25519 host key, pinned by the tests and the example deploy repo.
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
# 20 hosts are probed and connected to at once during start-up.
MaxStartups 100:30:200
CONF

# The account tend deploys as: key-only login, any command through `sudo -n`.
chroot "$r" useradd --create-home --shell /bin/bash deploy
install -d -m 700 "$r/root/.ssh"
printf 'deploy ALL=(ALL:ALL) NOPASSWD: ALL\n' > "$r/etc/sudoers.d/deploy"
chmod 0440 "$r/etc/sudoers.d/deploy"
chroot "$r" visudo -cq

echo 'LANG=C.UTF-8' > "$r/etc/default/locale"

# A quiet host: no periodic jobs or console login competing with what the tests do.
chroot "$r" systemctl disable apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer \
  e2scrub_all.timer fstrim.timer e2scrub_reap.service systemd-pstore.service \
  getty@tty1.service >/dev/null 2>&1 || true
chroot "$r" systemctl mask console-getty.service >/dev/null 2>&1

chroot "$r" apt-get clean
rm -rf "$r"/var/lib/apt/lists/* "$r"/var/log/journal/* "$r"/var/cache/man/*
