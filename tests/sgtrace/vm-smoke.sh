#!/bin/sh
# Runs in the guest without the runner's sgkm: load sgkm, map and unmap one table, unload; the
# tracer counts exactly one map and one unmap on sgkm.0 and reports nothing.
set -e
cat >/tmp/smoke <<'W'
set -e
insmod /lib/modules/sgkm.ko
sgtrace_sgkm_case smoke 1
rmmod sgkm
W
sgtrace record --json /tmp/r.json -- sh /tmp/smoke
sgtrace_check /tmp/r.json maps=1 unmaps=1 sgkm.0:maps=1 sgkm.0:unmaps=1 sgkm.0:live=0
