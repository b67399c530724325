#!/bin/bash
# build-image.sh - the stand-in guest image: a Debian cloud kernel (apt-get download +
# dpkg-deb -x, never installed), a busybox-static initramfs with the virtio modules, winqga
# (the simulated Windows guest agent), the real qemu-ga with its libraries (from the host's
# qemu-guest-agent package) and the identity files.
#
#   build-image.sh --cache DIR --agent WINQGA [--identities DIR]
#
# Output goes to DIR/<key>/{vmlinuz,initrd.img,manifest}; key = hash of the package versions,
# the agent binary, /init, the identities and this script. A cached key is reused without
# network access. Prints "KEY=... KERNEL=... INITRD=... CACHED=0|1 BUILD_SECONDS=..." on stdout.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE='' AGENT='' IDS=$HERE/../identities
while [ $# -gt 0 ]; do
	case $1 in
	--cache) CACHE=$2; shift 2 ;;
	--agent) AGENT=$2; shift 2 ;;
	--identities) IDS=$2; shift 2 ;;
	*) echo "build-image: unknown option $1" >&2; exit 2 ;;
	esac
done
[ -n "$CACHE" ] && [ -x "$AGENT" ] || { echo "usage: build-image.sh --cache DIR --agent WINQGA" >&2; exit 2; }
T0=$(date +%s.%N)
mkdir -p "$CACHE/debs"
KMETA=${TB_KERNEL_META:-linux-image-cloud-amd64}
say() { echo "build-image: $*" >&2; }
elapsed() { awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }

# kernel package and version, from apt's lists; offline: the newest cached .deb
KPKG='' KVERS=''
if KPKG=$(apt-cache depends "$KMETA" 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}') && [ -n "$KPKG" ]; then
	KVERS=$(apt-cache show --no-all-versions "$KPKG" 2>/dev/null | awk '/^Version:/ {print $2; exit}')
fi
if [ -z "$KPKG" ] || [ -z "$KVERS" ]; then
	deb=$(ls -t "$CACHE"/debs/linux-image-*-cloud-amd64_*.deb 2>/dev/null | head -1 || true)
	[ -n "$deb" ] || { say "cannot resolve $KMETA (no apt lists, nothing cached)"; exit 1; }
	KPKG=$(basename "$deb" | cut -d_ -f1)
	KVERS=$(basename "$deb" | cut -d_ -f2)
fi
pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo none; }
BBVER=$(pkgver busybox-static)
QGAVER=$(pkgver qemu-guest-agent)
[ "$BBVER" != none ] || { say "busybox-static is not installed"; exit 1; }
KEY=$({
	echo "$KPKG=$KVERS busybox-static=$BBVER qemu-guest-agent=$QGAVER"
	sha256sum "$AGENT" "$HERE/init" "${BASH_SOURCE[0]}" | cut -d' ' -f1
	(cd "$IDS" && sha256sum -- *)
} | sha256sum | cut -c1-16)
OUT=$CACHE/$KEY
if [ -s "$OUT/initrd.img" ] && [ -s "$OUT/vmlinuz" ]; then
	echo "KEY=$KEY KERNEL=$OUT/vmlinuz INITRD=$OUT/initrd.img CACHED=1 BUILD_SECONDS=$(elapsed)"
	exit 0
fi

exec 9>"$CACHE/.lock"
flock 9 # one builder at a time; the loser finds the winner's image
if [ -s "$OUT/initrd.img" ]; then
	echo "KEY=$KEY KERNEL=$OUT/vmlinuz INITRD=$OUT/initrd.img CACHED=1 BUILD_SECONDS=$(elapsed)"
	exit 0
fi
say "building stand-in image $KEY ($KPKG $KVERS, busybox-static $BBVER, qemu-guest-agent $QGAVER)"
WORK=$(mktemp -d "$CACHE/.work.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
DEB=$(ls "$CACHE/debs/${KPKG}_"*.deb 2>/dev/null | head -1 || true)
if [ -z "$DEB" ]; then
	for try in 1 2 3; do
		(cd "$CACHE/debs" && apt-get download -q "$KPKG" >&2 2>/dev/null) && break
		say "apt-get download $KPKG failed (try $try/3)"
		sleep $((try * 5))
	done
	DEB=$(ls "$CACHE/debs/${KPKG}_"*.deb 2>/dev/null | head -1 || true)
	[ -n "$DEB" ] || { say "could not download $KPKG"; exit 1; }
fi
X=$WORK/x
R=$WORK/root
mkdir -p "$X" "$R"
dpkg-deb -x "$DEB" "$X"
KVER=${KPKG#linux-image-}
cp "$X/boot/vmlinuz-$KVER" "$WORK/vmlinuz"

cd "$R"
mkdir -p bin sbin usr/bin usr/sbin etc/winqga/identities proc sys dev run tmp mnt/data lib/modules var
ln -s ../run var/run
cp "$(command -v busybox)" bin/busybox
for a in $(bin/busybox --list-full); do
	[ -e "$a" ] || ln -s /bin/busybox "$a"
done
MODS="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_console virtio_blk"
for m in $MODS; do
	f=$(find "$X/lib/modules/$KVER" -name "$m.ko*" | head -1)
	[ -n "$f" ] || { say "module $m not in $KPKG"; exit 1; }
	case $f in
	*.xz) xz -dc "$f" >"lib/modules/$m.ko" ;;
	*.zst) zstd -dqc "$f" >"lib/modules/$m.ko" ;;
	*) cp "$f" "lib/modules/$m.ko" ;;
	esac
done
echo "$MODS" >lib/modules/load-order
copy_with_libs() { # binary destdir: the binary plus the shared libraries it needs
	cp "$1" "$2/"
	if ldd "$1" >/dev/null 2>&1; then
		for lib in $(ldd "$1" | grep -o '/[^ ]*'); do
			mkdir -p ".$(dirname "$lib")"
			cp -L "$lib" ".$lib"
		done
	fi
}
copy_with_libs "$AGENT" usr/sbin
[ "$(basename "$AGENT")" = winqga ] || mv "usr/sbin/$(basename "$AGENT")" usr/sbin/winqga
if [ -x /usr/sbin/qemu-ga ]; then
	copy_with_libs /usr/sbin/qemu-ga usr/sbin
else
	say "qemu-guest-agent not installed: agent=qemu-ga will not work in this image"
fi
cp "$IDS"/* etc/winqga/identities/
cp "$HERE/init" init
chmod 755 init
cat >etc/os-release <<'OS'
PRETTY_NAME="holdfast stand-in guest (Linux, busybox)"
NAME="holdfast stand-in"
VERSION_ID="1"
VERSION="1 (stand-in)"
ID=holdfast-standin
OS
# qemu-ga runs /sbin/shutdown for guest-shutdown
printf '#!/bin/sh\nsync\ncase " $* " in *" -r "*) reboot -f ;; *) poweroff -f ;; esac\n' >sbin/shutdown
chmod 755 sbin/shutdown
find . | bin/busybox cpio -o -H newc -R 0:0 2>/dev/null | gzip -1 >"$WORK/initrd.img"
cd /
cat >"$WORK/manifest" <<MAN
key=$KEY
kernel=$KPKG $KVERS
busybox-static=$BBVER
qemu-guest-agent=$QGAVER
agent-sha256=$(sha256sum "$AGENT" | cut -d' ' -f1)
built=$(date -u +%FT%TZ)
MAN
mkdir -p "$OUT.new"
mv "$WORK/vmlinuz" "$WORK/initrd.img" "$WORK/manifest" "$OUT.new/"
rm -rf "$OUT"
mv "$OUT.new" "$OUT"
# keep the cache small: drop images of other keys
for d in "$CACHE"/*/; do
	case ${d%/} in "$OUT" | */debs) ;; *) rm -rf "${d%/}" ;; esac
done
echo "KEY=$KEY KERNEL=$OUT/vmlinuz INITRD=$OUT/initrd.img CACHED=0 BUILD_SECONDS=$(elapsed)"
