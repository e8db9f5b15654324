# shellcheck shell=bash
# Shared by scripts/ and tests/: the kernel matrix (scripts/kernels) and where each kernel, its
# headers and the guest's QEMU live in the cache.
#
# Cache layout ($SGTRACE_CACHE, default ~/.cache/sgtrace), written by scripts/setup:
#   kernels/<name>/abi             the ABI resolved for kernel <name> ("6.12.95+deb12")
#   kernels/<name>/<abi>/          vmlinuz, config, kbuild.env (KDIR=, ROOT=), modules/ (generic
#                                  flavour's driver modules, where fetched)
#   headers/<abi>/                 extracted linux-headers/-common/-kbuild (kernels built on the host)
#   roots/<suite>/                 a build root (mmdebstrap) for kernels whose kbuild cannot run here
#   qemu/<version>/                an extracted QEMU that boots every kernel of the matrix
#   apt/<suite>/                   private apt configuration and lists for a suite the system's
#                                  apt sources do not have

SGTRACE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SGTRACE_CACHE=${SGTRACE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sgtrace}
SGTRACE_KERNELS_FILE=$SGTRACE_ROOT/scripts/kernels

say() { printf '[sgtrace] %s\n' "$*" >&2; }
die() { printf '[sgtrace] error: %s\n' "$*" >&2; exit 1; }

# Names of the matrix's kernels, default first.
kernel_names() { awk '!/^#/ && NF { print $1 }' "$SGTRACE_KERNELS_FILE"; }
default_kernel() { kernel_names | head -n1; }
# kernel_field NAME COLUMN: 2 the Debian suite, 3 where its modules are built.
kernel_field() { awk -v n="$1" -v c="$2" '!/^#/ && $1 == n { print $c }' "$SGTRACE_KERNELS_FILE"; }
is_kernel() { [ -n "$1" ] && [ -n "$(kernel_field "$1" 1)" ]; }

# SGTRACE_KERNEL_ABI_6_12=... overrides the ABI of kernel 6.12; SGTRACE_KERNEL_ABI that of the
# default kernel (kept from before the matrix existed).
kernel_abi_override() {
	local var="SGTRACE_KERNEL_ABI_${1//./_}"
	if [ -n "${!var:-}" ]; then
		echo "${!var}"
	elif [ "$1" = "$(default_kernel)" ] && [ -n "${SGTRACE_KERNEL_ABI:-}" ]; then
		echo "$SGTRACE_KERNEL_ABI"
	fi
}

# The ABI of kernel NAME, as scripts/setup resolved it (no apt look-up here: the runner and
# CMake must work without network). Empty when that kernel is not set up.
kernel_abi() {
	local abi
	abi=$(kernel_abi_override "$1")
	[ -n "$abi" ] || abi=$(cat "$SGTRACE_CACHE/kernels/$1/abi" 2>/dev/null || true)
	echo "$abi"
}

kernel_dir() { echo "$SGTRACE_CACHE/kernels/$1/$(kernel_abi "$1")"; }

# Prints KDIR and ROOT of kernel NAME (kbuild.env): the kernel build tree, and the build root it
# must be used in ("" for this machine itself).
kernel_kbuild() { cat "$(kernel_dir "$1")/kbuild.env" 2>/dev/null; }

# The QEMU the guests run on (scripts/setup extracts one that boots every kernel of the
# matrix: this machine's QEMU 7.2 double-faults booting 6.12 under TCG). Prints the binary's
# path, or nothing.
guest_qemu_dir() { cat "$SGTRACE_CACHE/qemu/current" 2>/dev/null || true; }

# Devices tests/vm/run --device attaches, each with the kernel config symbol of its driver and
# the modules that driver needs loaded (their dependencies come from modules.dep). A driver that
# the cloud flavour lacks is taken from the generic flavour of the same kernel (virtio-gpu: the
# cloud kernels have no DRM; ahci: not in 6.1's cloud kernel), which the guest then boots.
DEVICE_KINDS="nvme ahci virtio-gpu"
device_config() {
	case $1 in
	nvme) echo BLK_DEV_NVME ;;
	ahci) echo SATA_AHCI ;;
	virtio-gpu) echo DRM_VIRTIO_GPU ;;
	esac
}
device_modules() {
	case $1 in
	nvme) echo nvme ;;
	ahci) echo ahci sd_mod ;;
	virtio-gpu) echo virtio_pci virtio-gpu ;;
	esac
}
is_device_kind() { [[ " $DEVICE_KINDS " == *" $1 "* ]]; }

# The flavour of kernel NAME whose files are in DIR/..: "cloud" or "generic".
flavour_dir() { if [ "$2" = cloud ]; then kernel_dir "$1"; else echo "$(kernel_dir "$1")/$2"; fi; }

# The flavour kernel NAME must boot for DEVICE: cloud when its config has the driver.
device_flavour() {
	local sym
	sym=$(device_config "$2")
	if grep -qE "^CONFIG_$sym=(y|m)$" "$(kernel_dir "$1")/config" 2>/dev/null; then
		echo cloud
	else
		echo generic
	fi
}
