# Runs inside the new root file system (chroot) after the overlay and foyerd
# were copied in: users, the data-partition skeleton, which units start.
# Arguments: BOARD VERSION.
set -eu
board=$1
version=$2

# foyerd's own unprivileged user. Its home is the data directory.
useradd --system --user-group --home-dir /data/foyer --no-create-home \
    --shell /usr/sbin/nologin --comment "Foyer daemon" foyer
# Input devices (the Raspberry Pi 5 power button) belong to group input.
if getent group input >/dev/null; then usermod -a -G input foyer; fi

# The data partition's initial content, also used by a factory reset:
# /data/foyer (foyerd's data directory, private) and /data/system/systemd
# (systemd's state: the clock file that keeps time sane on boards without a
# real-time clock, the random seed). The image's /var/lib/systemd content is
# the starting point of the latter.
skel=/usr/lib/foyer/data-skeleton
mkdir -p "$skel/foyer" "$skel/system/systemd" /data
cp -a /var/lib/systemd/. "$skel/system/systemd/"
chown foyer:foyer "$skel/foyer"
chmod 0700 "$skel/foyer"

systemctl enable foyerd.service foyer-data.service foyer-hostname.service \
    foyer-factory-reset.path foyer-issue-reload.path \
    foyer-logtail.service foyer-logtail.timer \
    systemd-networkd.service systemd-resolved.service systemd-timesyncd.service
# e2scrub needs LVM snapshots, which the box has none of.
systemctl mask e2scrub_all.timer e2scrub_reap.service 2>/dev/null || true

# No password anywhere, no way to log in: root stays locked, no SSH server
# is installed. The consoles show foyerd's text (name, addresses, claim code).
passwd -l root >/dev/null
echo foyer >/etc/hostname
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >/etc/hosts
# An empty machine-id on a read-only /etc: systemd makes a transient one at
# each boot (nothing on the box keys persistent state on it).
: >/etc/machine-id
printf 'Foyer personal data box %s (%s)\n\n' "$version" "$board" >/etc/issue
printf 'FOYER_BOARD=%s\nFOYER_VERSION=%s\n' "$board" "$version" >/etc/foyer/release
