#!/bin/sh
# Runs in the guest: sgstress under `sgtrace record` with an unbind storm.
#   sh /extra/vm-sgstress.sh METHOD clean   no faults: nothing reported, every map unmapped
#   sh /extra/vm-sgstress.sh METHOD faults  every fault kind: findings equal sgstress's truth
method=$1 mode=$2
if [ "$mode" = clean ]; then
	sgtrace record --attach="$method" --json /tmp/r.json -- \
		sgstress --duration 5 --threads 4 --devices 4 --unbind-every 20 --json /tmp/gt.json >/tmp/out.txt 2>&1
	rc=$? want=0
	checks="maps=unmaps maps>=1000 unbinds>=50"
else
	inject=""
	for k in leak_mapping skip_devres free_while_mapped double_unmap unmap_wrong_dir \
		unmap_wrong_nents unmap_wrong_dev leak_table; do
		inject="$inject --inject $k=3"
	done
	sgtrace record --attach="$method" --json /tmp/r.json -- \
		sgstress --ops 1500 --threads 4 --devices 4 --unbind-every 30 $inject --json /tmp/gt.json >/tmp/out.txt 2>&1
	rc=$? want=3
	checks="truth=/tmp/gt.json"
fi
grep -E '^(sgstress|errors|unbinds|totals|findings|WARN|note)' /tmp/out.txt
echo "sgtrace exit $rc (expected $want)"
# From 7.0 the kernel skips a hook's run when the same program is already running, preempted,
# on that CPU (docs/sgtrace.md): then the report may differ from the truth by at most the
# events it counts as lost, and a clean run may end with findings explained by them.
lost=$(sed -n 's/^totals:.* lost \([0-9]*\).*/\1/p' /tmp/out.txt)
if [ "${lost:-0}" != 0 ] && [ $rc = 3 ]; then
	echo "# $lost events lost: findings checked against the truth within that"
elif [ $rc != $want ]; then
	cat /tmp/out.txt
	exit 1
fi
sgtrace_check /tmp/r.json $checks within_lost
