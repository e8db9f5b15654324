#!/bin/sh
# Runs in the guest: `sgtrace events` streams findings as they happen; `sgtrace monitor` shows
# per-device activity. Both are started first and the workload once they are attached.
pass=0 fail=0
result() { if [ "$1" = 0 ]; then pass=$((pass + 1)); echo "ok - $2"; else fail=$((fail + 1)); echo "not ok - $2"; fi; }
# wait_for PATTERN FILE: polls until FILE has a line matching PATTERN; 1 after 30 s without.
wait_for() {
	i=0
	while ! grep -q "$1" "$2" 2>/dev/null; do
		[ $i -lt 300 ] || return 1
		sleep 0.1
		i=$((i + 1))
	done
}
# ready PATTERN FILE WHAT: wait_for, counted as a check (a wait that times out fails the test).
ready() { wait_for "$1" "$2"; result $? "$3"; }

# events --json: one line per finding, as it happens.
sgtrace events --json --duration 30 >/tmp/ev.json 2>/tmp/ev.err &
p=$!
ready streaming /tmp/ev.err "events --json: attached"
sgtrace_sgkm_case double_unmap 2
sgtrace_sgkm_case unmap_wrong_dir 1
ready unmap_mismatch /tmp/ev.json "events --json: the last finding streamed"
kill -INT $p; wait $p
result $? "events exits 0 on SIGINT"
[ "$(grep -c '"kind":"unmap_unknown"' /tmp/ev.json)" = 2 ] && grep -q '"reason":"already_unmapped"' /tmp/ev.json
result $? "events --json: 2 unmap_unknown (already_unmapped)"
[ "$(grep -c '"kind":"unmap_mismatch"' /tmp/ev.json)" = 1 ] && grep -q '"mismatch":\["dir"\]' /tmp/ev.json
result $? "events --json: 1 unmap_mismatch on dir"
grep -q '\[sgkm\]' /tmp/ev.json
result $? "events --json: stacks with sgkm frames"
[ "$(wc -l </tmp/ev.json)" = 3 ]
result $? "events --json: nothing else ($(wc -l </tmp/ev.json) lines)"

# events (text)
sgtrace events --duration 30 >/tmp/ev.txt 2>/tmp/ev2.err &
p=$!
ready streaming /tmp/ev2.err "events: attached"
sgtrace_sgkm_case leak_mapping 1     # not an event: leaks are known only at the end
sgtrace_sgkm_case unmap_wrong_nents 1
ready "^unmap_mismatch" /tmp/ev.txt "events: the mismatch streamed"
kill -TERM $p; wait $p
grep -q "^unmap_mismatch: " /tmp/ev.txt && grep -q "nents differs" /tmp/ev.txt && ! grep -q "^leak" /tmp/ev.txt
result $? "events: the mismatch streamed, the leak not"

# monitor --json: cumulative totals and per-device rates.
sgtrace monitor --json --interval 0.5 --duration 30 >/tmp/mon.json 2>/tmp/mon.err &
p=$!
ready time_s /tmp/mon.json "monitor --json: attached and ticking"
sgtrace_sgkm_case clean 40
# The workload has ended: the next tick after it shows all of it.
ready '"maps":40,"unmaps":40' /tmp/mon.json "monitor --json: a tick with the 40 maps and unmaps"
kill -INT $p; wait $p
result $? "monitor exits 0 on SIGINT"
tail -n 1 /tmp/mon.json | grep -q '"maps":40,"unmaps":40' && grep -q '"device":"sgkm.0"' /tmp/mon.json
result $? "monitor --json: 40 maps and unmaps on sgkm.0 ($(tail -n 1 /tmp/mon.json | cut -c1-120))"
grep '"device":"sgkm.0"' /tmp/mon.json | grep -q '"maps_per_s":[1-9]'
result $? "monitor --json: a nonzero maps/s while the workload ran"

# monitor, plain lines (stdout not a terminal)
sgtrace monitor --interval 0.5 --duration 30 >/tmp/mon.txt 2>&1 &
p=$!
ready "t=" /tmp/mon.txt "monitor: attached and ticking"
sgtrace_sgkm_case clean 10
ready "device=sgkm.0 driver=sgkm live=" /tmp/mon.txt "monitor: a line for sgkm.0"
kill -INT $p; wait $p
grep -q "device=sgkm.0 driver=sgkm live=" /tmp/mon.txt
result $? "monitor: per-device lines"

echo "$pass passed, $fail failed"
[ $fail = 0 ]
