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
case $method in
tp_btf | tracepoint)
	# Through the dma tracepoints a map that fails for lack of bounce buffer (ENOMEM) is not
	# seen (dma:dma_map_sg_err fires only for unexpected errors): nothing may be reported,
	# and probe must say that failed maps are not seen.
	sgtrace record --attach="$method" --json /tmp/r.json --fail-on map_failed -- \
		sgtrace_sgkm_case map_fail 2 134217728 scattered >/tmp/out.txt 2>&1
	rc=$?
	sgtrace probe --attach="$method" --json >/tmp/probe.json
	if [ $rc = 0 ] && sgtrace_check /tmp/r.json map_failed=0 maps=0 unmaps=0 >/tmp/c.txt &&
		grep -A4 '"map":' /tmp/probe.json | grep -q '"note":"[^"]*not seen'; then
		pass=$((pass + 1)); echo "ok - $method: failed maps are not seen, and probe says so"
	else
		fail=$((fail + 1)); echo "not ok - $method: failed maps (exit $rc)"
		sed 's/^/#   /' /tmp/c.txt /tmp/out.txt /tmp/probe.json
	fi
	;;
*)
	run 0
	run 3 --fail-on map_failed
	;;
esac
echo "$pass passed, $fail failed"
[ $fail = 0 ]
