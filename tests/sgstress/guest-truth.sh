#!/bin/sh
# Runs in the guest for check-truth: sgkm's debugfs counters (module-wide "stats" and one file
# per device) before and after `sgstress ARGS... --json /out/truth.json`, into /out/debugfs/;
# and a hard link (/out/previous-truth.json) to a previous truth.json, to see whether sgstress
# replaced the file or wrote through it. Exits with sgstress's status.
snap() {
	mkdir -p "/out/debugfs/$1"
	for f in /sys/kernel/debug/sgkm/stats /sys/kernel/debug/sgkm/sgkm.*; do
		cat "$f" >"/out/debugfs/$1/${f##*/}" || exit 1
	done
}
snap before
echo previous >/out/truth.json
ln /out/truth.json /out/previous-truth.json || exit 1
sgstress "$@" --json /out/truth.json
rc=$?
snap after
exit $rc
