# Sourced by guest test scripts (tests/vm/run --add it next to them): one sgtrace record run
# checked against expectations, counted, printed as TAP-like lines.
#   check NAME WANTED_EXIT ACTUAL_EXIT [sgtrace_check expectations...]
# reads /tmp/r.json (the JSON report) and /tmp/r.txt (the text report) of the run; $method
# names the attach method in the lines. guest_summary prints the counts and fails if any failed.
pass=0 fail=0
check() {
	name=$1 want=$2 rc=$3
	shift 3
	if [ "$rc" = "$want" ] && sgtrace_check /tmp/r.json "$@" >/tmp/c.txt 2>&1; then
		pass=$((pass + 1)); echo "ok - $method: $name"
	else
		fail=$((fail + 1)); echo "not ok - $method: $name (sgtrace exit $rc, expected $want)"
		sed 's/^/#   /' /tmp/c.txt /tmp/r.txt
	fi
}
guest_summary() {
	echo "# $method: $pass passed, $fail failed"
	[ $fail = 0 ]
}
