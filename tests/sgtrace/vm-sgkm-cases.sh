#!/bin/sh
# Runs in the guest (tests/vm/run --add): every sgkm fault kind under `sgtrace record` with one
# attach method, checking exact finding counts and that nothing else is reported.
#   sh /extra/vm-sgkm-cases.sh METHOD
method=${1:-auto}
pass=0 fail=0

# case NAME EXPECTED_EXIT "SCENARIO [N [SIZE [LAYOUT]]]" CHECKS...   ($opts: more record options)
opts=
case_() {
	name=$1 want=$2 scenario=$3
	shift 3
	sgtrace record --attach="$method" $opts --json /tmp/r.json -- sgtrace_sgkm_case $scenario >/tmp/r.txt 2>&1
	rc=$?
	if [ $rc = "$want" ] && sgtrace_check /tmp/r.json "$@" >/tmp/c.txt 2>&1; then
		pass=$((pass + 1))
		echo "ok - $method: $name"
	else
		fail=$((fail + 1))
		echo "not ok - $method: $name (sgtrace exit $rc, expected $want)"
		sed 's/^/#   /' /tmp/c.txt /tmp/r.txt
	fi
}

case_ "clean tables report nothing" 0 "clean 20" maps=20 unmaps=20
case_ "clean tables unmapped by devres at unbind report nothing" 0 "clean_unbind 3" maps=3 unmaps=3 unbinds=3
case_ "leak_mapping -> leak" 3 "leak_mapping 3" leak=3 maps=3 unmaps=0 device=sgkm.0 "stack_has=[sgkm]"
case_ "leak_mapping + unbind -> outlives_unbind" 3 "leak_mapping_unbind 2" outlives_unbind=2 maps=2 unmaps=0 device=sgkm.0
case_ "skip_devres + unbind -> unmap_after_unbind" 3 "skip_devres 2" unmap_after_unbind=2 maps=2 unmaps=2 device=sgkm.0
case_ "free_while_mapped (kmalloc'ed sgl) -> freed_while_mapped" 3 "free_while_mapped 3 16384" freed_while_mapped=3 maps=3 unmaps=0 device=sgkm.0
case_ "free_while_mapped (page-sized sgl, free_page) -> freed_while_mapped" 3 "free_while_mapped 2 1048576" freed_while_mapped=2 maps=2 unmaps=0 device=sgkm.0
case_ "double_unmap -> unmap_unknown" 3 "double_unmap 3" unmap_unknown=3 maps=3 unmaps=3 device=sgkm.0
case_ "unmap_wrong_dir -> unmap_mismatch" 3 "unmap_wrong_dir 2" unmap_mismatch=2 maps=2 unmaps=2 device=sgkm.0 "stack_has=[sgkm]"
case_ "unmap_wrong_nents -> unmap_mismatch" 3 "unmap_wrong_nents 2" unmap_mismatch=2 maps=2 unmaps=2 device=sgkm.0
case_ "unmap_wrong_dev -> unmap_mismatch" 3 "unmap_wrong_dev 2" unmap_mismatch=2 maps=2 unmaps=2 device=sgkm.0
case_ "leak_table -> nothing" 0 "leak_table 2" maps=2 unmaps=2

# --device: the tables live on sgkm.0
opts="--device sgkm.1"
case_ "--device sgkm.1 ignores sgkm.0's leak" 0 "leak_mapping 1" maps=0 unmaps=0
opts="--device sgkm.0"
case_ "--device sgkm.0 reports sgkm.0's leak" 3 "leak_mapping 1" leak=1 maps=1 device=sgkm.0
# A full live-mapping table is counted as lost, never silently dropped.
# --max-mappings 4 is one bucket of 8 slots (sgt_live_buckets): 8 leaks fit, 4 do not.
opts="--max-mappings 4"
case_ "--max-mappings 4: eight leaks tracked, four maps counted lost" 3 "leak_mapping 12" leak=8 maps=8 lost=4
opts=

echo "$pass passed, $fail failed"
[ $fail = 0 ]
