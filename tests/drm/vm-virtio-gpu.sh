#!/bin/sh
# Runs in the guest with --device virtio-gpu (generic kernel): the GEM shmem lifetime bug of a
# real upstream driver. virtio-gpu maps every dumb buffer's pages with dma_map_sgtable() against
# its PCI function when the buffer is created, and unmaps them only when the last reference to
# the buffer goes. A client that holds its buffers across an unbind of the PCI function keeps
# those mappings alive past the driver's lifetime.
#   sh /extra/vm-virtio-gpu.sh METHOD
method=${1:-auto}
. /extra/guest-check.sh
n=4
pci=$(basename "$(readlink -f /sys/class/drm/card0/device)")
drv=/sys/bus/pci/drivers/virtio-pci

# Runs with drm_kms_helper.fbdev_emulation=0 (the driver's own fbdev buffer is freed at unbind
# or later, by timing). Unbind before the traces and bind inside each, so that every mapping of
# the run is seen from its start.
echo "$pci" >$drv/unbind || { echo "not ok - unbind $pci before the trace"; exit 1; }

# client-start: bind, wait for card0, start a client holding N buffers (until SIGTERM; its
# stdin is a fifo that the script keeps open, so that it outlives the traced command).
cat >/tmp/client-start <<W
echo $pci >$drv/bind
i=0; while [ ! -e /dev/dri/card0 ] && [ \$i -lt 1200 ]; do sleep 0.05; i=\$((i + 1)); done
sgtrace_drm_dumb $n </tmp/hold >/tmp/client.out 2>&1 &
client=\$!
i=0; while ! grep -q created /tmp/client.out && [ \$i -lt 1200 ]; do sleep 0.05; i=\$((i + 1)); done
grep -q created /tmp/client.out || { cat /tmp/client.out; exit 1; }
W
# client-stop (in the shell that started it): the client closes its device and exits.
echo 'kill -TERM $client; wait $client' >/tmp/client-stop
rm -f /tmp/hold
mkfifo /tmp/hold
exec 3<>/tmp/hold


# 1. The client still holds its buffers when the trace ends: each outlived the unbind.
sgtrace record --attach="$method" --json /tmp/r.json -- sh -c "
. /tmp/client-start
echo $pci >$drv/unbind
" >/tmp/r.txt 2>&1
check "buffers held across the unbind -> $n outlives_unbind" 3 $? outlives_unbind=$n \
	device=$pci "stack_has=drm_gem_shmem_get_pages_sgt"
kill -TERM "$(pidof sgtrace_drm_dumb)"
i=0; while pidof sgtrace_drm_dumb >/dev/null && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
pidof sgtrace_drm_dumb >/dev/null && { echo "not ok - the client did not exit"; exit 1; }

# 2. The client closes after the unbind: each unmap comes after its device's unbind.
sgtrace record --attach="$method" --json /tmp/r.json -- sh -c "
. /tmp/client-start
echo $pci >$drv/unbind
. /tmp/client-stop
" >/tmp/r.txt 2>&1
check "buffers freed after the unbind -> $n unmap_after_unbind" 3 $? unmap_after_unbind=$n \
	device=$pci maps=unmaps

# 3. No unbind: the client closes, everything is unmapped, nothing reported.
sgtrace record --attach="$method" --json /tmp/r.json -- sh -c "
. /tmp/client-start
. /tmp/client-stop
echo $pci >$drv/unbind
" >/tmp/r.txt 2>&1
check "buffers freed before the unbind -> nothing" 0 $? maps=unmaps "maps>=$n"

guest_summary
