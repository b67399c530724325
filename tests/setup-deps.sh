#!/bin/bash
# setup-deps.sh - install what holdfast needs to build, run its demo and run its tests, from
# Debian 12's packages. Idempotent; retries apt-get (mirrors can be flaky). Run as root.
set -euo pipefail
BUILD_PKGS="meson ninja-build pkg-config gcc libc6-dev libvirt-dev libglib2.0-dev libcjson-dev
 libxml2-dev libcmocka-dev libcurl4-openssl-dev libssl-dev libmicrohttpd-dev libnbd-dev"
RUN_PKGS="libvirt-daemon-system libvirt-clients libvirt-daemon-driver-qemu qemu-system-x86
 qemu-utils qemu-guest-agent busybox-static e2fsprogs jq openssl curl procps"
TEST_PKGS="valgrind clang libclang-rt-14-dev python3 openssh-server openssh-client"
case "${1:-all}" in
build) WANT="$BUILD_PKGS" ;;
run) WANT="$BUILD_PKGS $RUN_PKGS" ;;
*) WANT="$BUILD_PKGS $RUN_PKGS $TEST_PKGS" ;;
esac

missing=$(dpkg-query -W -f='${Package} ${Status}\n' $WANT 2>/dev/null | awk '$4 != "installed" {print $1}' || true)
for p in $WANT; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"; done
missing=$(echo $missing | tr ' ' '\n' | sort -u | tr '\n' ' ')
if [ -z "${missing// /}" ]; then
	echo "setup-deps: all packages present"
	exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "setup-deps: missing packages ($missing); run as root" >&2; exit 1; }
echo "setup-deps: installing $missing"
export DEBIAN_FRONTEND=noninteractive
# No daemons started by package scripts (no systemd here; the test bed starts its own).
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
retry() {
	local n
	for n in 1 2 3 4 5; do
		"$@" && return 0
		echo "setup-deps: '$*' failed (try $n/5); retrying in $((n * 10)) s" >&2
		sleep $((n * 10))
	done
	return 1
}
retry apt-get update -q
# shellcheck disable=SC2086
retry apt-get install -y -q --no-install-recommends $missing
