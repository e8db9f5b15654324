#!/bin/sh
# Runs in the guest: a driver whose probe maps two tables and fails (tests/sgtrace/probe_fail_module).
# The driver core's cleanup of the failed probe is an unbind: devres unmaps the managed table
# inside it (clean), the unmanaged one outlives it.
#   sh /extra/vm-probe-fail.sh METHOD
method=${1:-auto}
. /extra/guest-check.sh
ko=/lib/modules/sgkm_probe_fail.ko

sgtrace record --attach="$method" --json /tmp/r.json -- insmod $ko >/tmp/r.txt 2>&1
check "failed probe: mapping still live at the end -> outlives_unbind" 3 $? \
	outlives_unbind=1 maps=2 unmaps=1 unbinds=1 device=sgkm_probe_fail "stack_has=pf_probe"
rmmod sgkm_probe_fail || { echo "not ok - rmmod"; exit 1; }

sgtrace record --attach="$method" --json /tmp/r.json -- sh -c "insmod $ko && rmmod sgkm_probe_fail" >/tmp/r.txt 2>&1
check "failed probe: unmapped at unload -> unmap_after_unbind" 3 $? \
	unmap_after_unbind=1 maps=2 unmaps=2 unbinds=1 device=sgkm_probe_fail

guest_summary
