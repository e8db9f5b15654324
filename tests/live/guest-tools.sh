#!/bin/sh
# tests/live/guest-tools.sh [--load SECONDS] [TOOL...]: in the guest, under the same load as
# guest-attach.sh (sgstress, 2 threads, 3 devices), runs each TOOL the way issue #11 did, and
# prints sgkm's map count at each step, so that a tool's count can be set against the calls
# made while its hook was attached, not while it started up. TOOL: bpftrace-kfunc,
# bpftrace-kprobe, sgtrace-monitor (JSON), sgtrace-monitor-text (default: all four).
set -u
load=90
[ "${1:-}" = --load ] && { load=$2; shift 2; }
[ $# -gt 0 ] || set -- bpftrace-kfunc bpftrace-kprobe sgtrace-monitor sgtrace-monitor-text
stats=/sys/kernel/debug/sgkm/stats
cat >/tmp/mark <<'EOS'
#!/bin/sh
# mark LABEL: the guest's uptime and sgkm's dma_map_sgtable() calls (maps + map_failures).
awk -v l="$1" -v t="$(cut -d' ' -f1 /proc/uptime)" \
	'$1 == "maps" || $1 == "map_failures" { n += $2 } END { printf "mark %s uptime=%s truth=%d\n", l, t, n }' \
	/sys/kernel/debug/sgkm/stats
EOS
chmod +x /tmp/mark
maps() { awk '$1 == "maps" { print $2 }' $stats; }

sgstress --duration "$load" --threads 2 --devices 3 >/tmp/sgstress.out 2>&1 &
load_pid=$!
m0=$(maps) seen=0
while [ $seen -lt 2 ]; do
	kill -0 $load_pid 2>/dev/null || { echo "sgstress ended early" >&2; exit 1; }
	m=$(maps)
	[ "$m" != "$m0" ] && seen=$((seen + 1)) && m0=$m
done
status=0
for tool; do
	echo "== $tool"
	/tmp/mark launch
	case $tool in
	bpftrace-kfunc | bpftrace-kprobe)
		probe=kfunc:dma_map_sgtable
		[ "$tool" = bpftrace-kprobe ] && probe=kprobe:dma_map_sgtable
		# bpftrace(8): BEGIN is triggered before the other probes are attached, END after
		# they are detached, so BEGIN..END brackets the attached window from outside.
		bpftrace --unsafe -e "BEGIN { system(\"/tmp/mark BEGIN\"); }
			$probe { @maps = count(); }
			interval:s:4 { exit(); }
			END { system(\"/tmp/mark END\"); }" 2>&1 || status=1
		;;
	sgtrace-monitor)
		sgtrace monitor --duration 4 --interval 1 --json >/tmp/monitor.out 2>&1 || status=1
		tail -n 3 /tmp/monitor.out
		;;
	sgtrace-monitor-text)
		sgtrace monitor --duration 4 2>&1 || status=1
		;;
	esac
	/tmp/mark exit
done
kill -INT $load_pid
wait $load_pid # sgstress interrupted exits 1: not the tools' failure
exit $status
