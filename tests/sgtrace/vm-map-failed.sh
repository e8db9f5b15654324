#!/bin/sh
# Runs in the guest with memory above 4 GiB and sgkm's dma32_devices=1: maps of a 128 MiB table
# on sgkm.0 overflow the 64 MiB bounce buffer and fail. map_failed is informational: exit 0 by
# default, 3 with --fail-on map_failed.
#   sh /extra/vm-map-failed.sh METHOD
method=${1:-auto}
pass=0 fail=0
run() {
	want=$1
	shift
	sgtrace record --attach="$method" --json /tmp/r.json "$@" -- \
		sgtrace_sgkm_case map_fail 2 134217728 scattered >/tmp/out.txt 2>&1
	rc=$?
	if [ $rc = "$want" ] && sgtrace_check /tmp/r.json map_failed=2 maps=0 unmaps=0 \
		sgkm.0:map_failed=2 "stack_has=[sgkm]" >/tmp/c.txt; then
		pass=$((pass + 1)); echo "ok - $method: map_failed $* -> exit $rc"
	else
		fail=$((fail + 1)); echo "not ok - $method: map_failed $* -> exit $rc, expected $want"
		sed 's/^/#   /' /tmp/c.txt /tmp/out.txt
	fi
}
run 0
run 3 --fail-on map_failed
echo "$pass passed, $fail failed"
[ $fail = 0 ]
