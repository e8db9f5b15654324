#!/bin/sh
# tests/live/guest-attach.sh [--pause] [--load SECONDS] [--nvme-dd] [--methods "M..."]
#                             -- live-attach-count ARGS...
# In the guest: starts sgstress (2 threads, 3 devices) for SECONDS (default 60), waits until
# sgkm's map count moves (the traffic is running: the function is hot), then runs
# live-attach-count with ARGS. --pause adds --stop <sgstress pid>: the load is stopped across
# each attach. --methods runs the command once per method, adding --method M. --nvme-dd also
# reads /dev/nvme0n1 with O_DIRECT in a loop meanwhile.
# Ends the load (SIGINT, then waits for it; interrupted, sgstress exits 1) and exits with
# live-attach-count's status (the last nonzero one with --methods).
set -u
pause=0 load=60 dd=0 methods=
while [ $# -gt 0 ]; do
	case "$1" in
	--pause) pause=1 ;;
	--load) load=$2; shift ;;
	--nvme-dd) dd=1 ;;
	--methods) methods=$2; shift ;;
	--) shift; break ;;
	*) echo "guest-attach.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
stats=/sys/kernel/debug/sgkm/stats
maps() { awk '$1 == "maps" { print $2 }' $stats; }

sgstress --duration "$load" --threads 2 --devices 3 >/tmp/sgstress.out 2>&1 &
load_pid=$!
dd_pid=
if [ $dd = 1 ]; then
	( while :; do dd if=/dev/nvme0n1 of=/dev/null bs=64k iflag=direct 2>/dev/null || exit; done ) &
	dd_pid=$!
fi
# The function is hot once sgkm's count has moved twice (two reads apart, not a sleep).
m0=$(maps) seen=0
while [ $seen -lt 2 ]; do
	kill -0 $load_pid 2>/dev/null || { echo "guest-attach.sh: sgstress ended early" >&2; cat /tmp/sgstress.out >&2; exit 1; }
	m=$(maps)
	[ "$m" != "$m0" ] && seen=$((seen + 1)) && m0=$m
done
echo "load running: sgkm maps=$m0"
extra=
[ $pause = 1 ] && extra="--stop $load_pid"
status=0
if [ -n "$methods" ]; then
	for m in $methods; do
		# shellcheck disable=SC2086
		"$@" --method $m $extra || status=$?
	done
else
	# shellcheck disable=SC2086
	"$@" $extra || status=$?
fi
kill -INT $load_pid 2>/dev/null
[ -n "$dd_pid" ] && kill $dd_pid 2>/dev/null
wait $load_pid
echo "sgstress exit $?: $(tail -n 2 /tmp/sgstress.out | tr "\n" " ")"
[ -n "$dd_pid" ] && wait $dd_pid
exit $status
