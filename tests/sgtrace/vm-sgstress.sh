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
grep -E '^(sgstress|errors|unbinds|totals|findings|WARN)' /tmp/out.txt
echo "sgtrace exit $rc (expected $want)"
[ $rc = $want ] || { cat /tmp/out.txt; exit 1; }
sgtrace_check /tmp/r.json $checks
