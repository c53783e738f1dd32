#!/bin/sh
# kiln rootfs customize hook (mmdebstrap --customize-hook): apt sources at the
# locked snapshot, container-minimizing config, slim file removal, and nothing
# that differs between runs. $1 is the rootfs; KILN_SNAPSHOT and KILN_SUITE
# come from the environment, KILN_SLIM=1 removes docs, man pages and locales.
set -eu
root="$1"
snapshot="${KILN_SNAPSHOT:?}"
suite="${KILN_SUITE:?}"

# apt sources: the snapshot the lock was taken from (deb822).
rm -f "$root/etc/apt/sources.list"
mkdir -p "$root/etc/apt/sources.list.d"
cat > "$root/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: http://snapshot.debian.org/archive/debian/$snapshot
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://snapshot.debian.org/archive/debian-security/$snapshot
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
# Snapshot Release files expire; their dates are fixed by the timestamp.
echo 'Acquire::Check-Valid-Until "false";' > "$root/etc/apt/apt.conf.d/kiln-snapshot"

# Services never start during package installs in a container.
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
echo 'force-unsafe-io' > "$root/etc/dpkg/dpkg.cfg.d/kiln-unsafe-io"

cat > "$root/etc/apt/apt.conf.d/kiln-clean" <<'CLEAN'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CLEAN
cat > "$root/etc/apt/apt.conf.d/kiln-no-recommends" <<'NORECOMMENDS'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
APT::AutoRemove::RecommendsImportant "false";
APT::AutoRemove::SuggestsImportant "false";
NORECOMMENDS
echo 'Acquire::Languages "none";' > "$root/etc/apt/apt.conf.d/kiln-no-languages"
printf 'Acquire::GzipIndexes "true";\nAcquire::CompressionTypes::Order:: "gz";\n' > "$root/etc/apt/apt.conf.d/kiln-gzip-indexes"

if [ "${KILN_SLIM:-1}" = 1 ]; then
	# The same rules mmdebstrap got as --dpkgopt, under a name of their own,
	# so later package installs in derived images stay slim too.
	if [ -f "$root/etc/dpkg/dpkg.cfg.d/99mmdebstrap" ]; then
		grep '^path-' "$root/etc/dpkg/dpkg.cfg.d/99mmdebstrap" | sed 's/=/ /' > "$root/etc/dpkg/dpkg.cfg.d/kiln-slim"
		rm -f "$root/etc/dpkg/dpkg.cfg.d/99mmdebstrap"
	fi
	find "$root/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
	find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
	for d in man info locale groff linda lintian/overrides; do
		if [ -d "$root/usr/share/$d" ]; then find "$root/usr/share/$d" -mindepth 1 -delete; fi
	done
fi

# The target's own ldconfig writes the cache (under qemu for a foreign
# architecture): a chrootless run would leave one the host could not index.
chroot "$root" /sbin/ldconfig

# No setuid/setgid programs: containers run as non-root with no-new-privileges,
# where such bits can only ever be a way up, never a feature.
if [ "${KILN_SLIM:-1}" = 1 ]; then
	find "$root" -xdev -type f -perm /6000 -exec chmod ug-s {} +
fi

# Nothing that differs per run or per host.
rm -f "$root/etc/resolv.conf" "$root/etc/hostname"
rm -f "$root/var/cache/ldconfig/aux-cache"
rm -f "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old
rm -rf "$root"/var/log/apt/* "$root/var/log/dpkg.log" "$root/var/log/alternatives.log" "$root/var/log/bootstrap.log"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
if [ -e "$root/etc/machine-id" ]; then : > "$root/etc/machine-id"; fi
