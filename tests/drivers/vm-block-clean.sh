#!/bin/sh
# Runs in the guest with --device nvme or --device ahci: a real block driver under a real I/O
# mix (fio, direct I/O: reads, writes and mixed, 4 KiB to 1 MiB, queue depth 1 and 16), then an
# unbind and rebind of the idle controller. A clean driver: nothing reported, every map
# unmapped, at least one unbind seen.
#   sh /extra/vm-block-clean.sh nvme|ahci METHOD
kind=$1 method=${2:-auto}
case $kind in
nvme) disk=/dev/nvme0n1; pci=$(basename "$(readlink -f /sys/class/nvme/nvme0/device)"); drv=nvme ;;
ahci) disk=/dev/sda; pci=0000:00:1f.2; drv=ahci ;;
*) echo "usage: vm-block-clean.sh nvme|ahci METHOD" >&2; exit 2 ;;
esac
# ahci's disk appears once the SCSI scan, which runs asynchronously, is done.
i=0
while [ ! -b $disk ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
[ -b $disk ] || { echo "not ok - no $disk"; exit 1; }

cat >/tmp/workload <<W
set -e
for job in "randwrite 4k 16" "randread 4k 16" "randrw 64k 8" "write 1m 1" "read 1m 4" "randread 16k 1"; do
	set -- \$job
	fio --name=mix --filename=$disk --direct=1 --ioengine=libaio --rw=\$1 --bs=\$2 \
		--iodepth=\$3 --size=8m --io_size=4m --output-format=terse >/dev/null
done
sync
echo $pci >/sys/bus/pci/drivers/$drv/unbind
echo $pci >/sys/bus/pci/drivers/$drv/bind
i=0
while [ ! -b $disk ] && [ \$i -lt 1200 ]; do sleep 0.05; i=\$((i + 1)); done
fio --name=after --filename=$disk --direct=1 --ioengine=libaio --rw=read --bs=128k --iodepth=4 \
	--size=4m --output-format=terse >/dev/null
W
sgtrace record --attach="$method" --json /tmp/r.json -- sh /tmp/workload >/tmp/r.txt 2>&1
rc=$?
grep -E '^(totals|findings|hooks|WARN)' /tmp/r.txt
if [ $rc = 0 ] && sgtrace_check /tmp/r.json maps=unmaps 'maps>=20' 'unbinds>=1' >/tmp/c.txt 2>&1; then
	echo "ok - $kind $method: fio mix and an idle unbind report nothing"
else
	echo "not ok - $kind $method: sgtrace exit $rc"
	sed 's/^/#   /' /tmp/c.txt /tmp/r.txt
	exit 1
fi
