#!/bin/sh
# Runs in the guest with --nvme: real nvme traffic and an idle unbind/rebind must report nothing.
#   sh /extra/vm-nvme-clean.sh METHOD
method=${1:-auto}
cat >/tmp/workload <<'W'
set -e
# The controller's PCI function, through the nvme class device: with QEMU 10's nvme (a
# multipath-capable subsystem) /sys/block/nvme0n1/device is the subsystem head nvme-subsys0.
dev=$(basename "$(readlink -f /sys/class/nvme/nvme0/device)")
dd if=/dev/urandom of=/tmp/data bs=1M count=16 2>/dev/null
dd if=/tmp/data of=/dev/nvme0n1 bs=1M oflag=direct 2>/dev/null
dd if=/dev/nvme0n1 of=/dev/null bs=4M count=16 iflag=direct 2>/dev/null
dd if=/dev/nvme0n1 of=/dev/null bs=128k count=100 iflag=direct 2>/dev/null
sync
echo "$dev" >/sys/bus/pci/drivers/nvme/unbind
echo "$dev" >/sys/bus/pci/drivers/nvme/bind
i=0
while [ ! -b /dev/nvme0n1 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
dd if=/dev/nvme0n1 of=/dev/null bs=1M count=8 iflag=direct 2>/dev/null
W
sgtrace record --attach="$method" --json /tmp/r.json -- sh /tmp/workload
rc=$?
echo "sgtrace exit $rc"
[ $rc = 0 ] || exit 1
if [ "$method" = kprobe ]; then
	# A kprobe does not fire while another kprobe's handler runs on the CPU: an nvme
	# completion interrupt that hits one of ours loses its unmap. sgtrace counts those as lost
	# (and reports no false finding for them); all other maps have their unmap.
	sgtrace_check /tmp/r.json maps=unmaps+lost 'maps>=20' 'unbinds>=1'
else
	sgtrace_check /tmp/r.json maps=unmaps 'maps>=20' 'unbinds>=1'
fi
