#!/bin/sh
# tests/live/guest-cycles.sh [--cycles N] [--nvme-dd] [-- CMD...]: in the guest, attach/detach
# cycles under load. Starts sgstress (2 threads, 3 devices) and, with --nvme-dd, O_DIRECT reads
# of /dev/nvme0n1 in a loop; once sgkm's map count moves, runs CMD N times (default 20; CMD
# defaults to `sgtrace record --duration 1`), printing each cycle's exit
# status and wall time. A soft lockup or RCU stall during a cycle fails the run through the
# runner's splat check (exit 120). Exit 1 if a cycle exited 1 (an error) or the load died.
set -u
cycles=20 dd=0
while [ $# -gt 0 ]; do
	case "$1" in
	--cycles) cycles=$2; shift ;;
	--nvme-dd) dd=1 ;;
	--) shift; break ;;
	*) echo "guest-cycles.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
[ $# -gt 0 ] || set -- sgtrace record --duration 1
stats=/sys/kernel/debug/sgkm/stats
maps() { awk '$1 == "maps" { print $2 }' $stats; }
up() { cut -d' ' -f1 /proc/uptime; }

sgstress --duration 3600 --threads 2 --devices 3 >/tmp/sgstress.out 2>&1 &
load_pid=$!
dd_pid=
if [ $dd = 1 ]; then
	( while :; do dd if=/dev/nvme0n1 of=/dev/null bs=64k iflag=direct 2>/dev/null || exit; done ) &
	dd_pid=$!
fi
m0=$(maps) seen=0
while [ $seen -lt 2 ]; do
	kill -0 $load_pid 2>/dev/null || { echo "guest-cycles.sh: sgstress ended early" >&2; exit 1; }
	m=$(maps)
	[ "$m" != "$m0" ] && seen=$((seen + 1)) && m0=$m
done
status=0 i=1
while [ $i -le "$cycles" ]; do
	t0=$(up) m0=$(maps)
	"$@" >/tmp/cycle.out 2>&1
	rc=$?
	t1=$(up) m1=$(maps)
	echo "cycle $i exit=$rc wall_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') sgkm_maps=$((m1 - m0))"
	[ $rc = 1 ] && { status=1; tail -n 5 /tmp/cycle.out; }
	kill -0 $load_pid 2>/dev/null || { echo "guest-cycles.sh: sgstress died" >&2; status=1; break; }
	i=$((i + 1))
done
kill -INT $load_pid 2>/dev/null
[ -n "$dd_pid" ] && kill $dd_pid 2>/dev/null
wait $load_pid
[ -n "$dd_pid" ] && wait $dd_pid
exit $status
