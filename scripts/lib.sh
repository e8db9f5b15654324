# shellcheck shell=bash
# Shared by scripts/ and tests/vm/run: where the guest kernel lives and which one it is.

SGTRACE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SGTRACE_CACHE=${SGTRACE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sgtrace}

say() { printf '[sgtrace] %s\n' "$*" >&2; }
die() { printf '[sgtrace] error: %s\n' "$*" >&2; exit 1; }

# The guest kernel ABI ("6.1.0-56"). SGTRACE_KERNEL_ABI overrides it; otherwise it is what
# Debian's linux-image-cloud-amd64 metapackage depends on, remembered in the cache so that later
# runs need no apt look-up.
guest_kernel_abi() {
	if [ -n "${SGTRACE_KERNEL_ABI:-}" ]; then
		echo "$SGTRACE_KERNEL_ABI"
		return
	fi
	if [ -s "$SGTRACE_CACHE/kernel-abi" ]; then
		cat "$SGTRACE_CACHE/kernel-abi"
		return
	fi
	local abi
	abi=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
		sed -n 's/.*Depends: linux-image-\([0-9][^ ]*\)-cloud-amd64$/\1/p' | sort -V | tail -n1)
	[ -n "$abi" ] || die "cannot resolve the guest kernel ABI from linux-image-cloud-amd64; run 'apt-get update' or set SGTRACE_KERNEL_ABI"
	mkdir -p "$SGTRACE_CACHE"
	echo "$abi" >"$SGTRACE_CACHE/kernel-abi"
	echo "$abi"
}

guest_kernel_dir() { echo "$SGTRACE_CACHE/kernel/$(guest_kernel_abi)-cloud-amd64"; }
guest_kdir() { echo "/usr/src/linux-headers-$(guest_kernel_abi)-cloud-amd64"; }
