#!/bin/sh
# Runs in the guest: `sgtrace record` with a real finding (an sgkm leak_mapping) and a report
# that cannot be written. An operational error wins over the findings' exit status 3 and names
# the file; a regular file that cannot be written keeps its old content.
pass=0 fail=0
result() { if [ "$1" = 0 ]; then pass=$((pass + 1)); echo "ok - $2"; else fail=$((fail + 1)); echo "not ok - $2"; fi; }
leak="sgtrace_sgkm_case leak_mapping 1"

# Control: the finding is there, so a written report is exit 3.
sgtrace record --json /tmp/r.json -- $leak >/tmp/out 2>/tmp/err
rc=$?
result $((rc != 3)) "a leak, report written: exit $rc (expected 3)"
sgtrace_check /tmp/r.json leak=1 >/dev/null
result $? "a leak, report written: it has the leak"

# The JSON report cannot be written (a full device): exit 1, not 3, and stderr says why.
sgtrace record --json /dev/full -- $leak >/tmp/out 2>/tmp/err
rc=$?
result $((rc != 1)) "a leak, --json /dev/full: exit $rc (expected 1)"
grep -q 'cannot write the JSON report to /dev/full' /tmp/err && grep -q 'exit status 1, not 3' /tmp/err
result $? "a leak, --json /dev/full: stderr names the file and the overridden 3 ($(head -c 300 /tmp/err))"

# A regular file over the size limit (the disk full as sgtrace sees it): the old file stays.
echo old >/tmp/r.json
(trap '' XFSZ; ulimit -f 1; sgtrace record --json /tmp/r.json -- $leak >/dev/null 2>/tmp/err)
rc=$?
result $((rc != 1)) "a leak, a failed write of /tmp/r.json: exit $rc (expected 1)"
grep -q 'cannot write the JSON report to /tmp/r.json (writing it)' /tmp/err
result $? "a leak, a failed write of /tmp/r.json: stderr names it ($(head -c 300 /tmp/err))"
[ "$(cat /tmp/r.json)" = old ] && [ -z "$(ls -a /tmp | grep '^\.r\.json\.')" ]
result $? "a leak, a failed write of /tmp/r.json: the old content is intact, no temporary file"

# The text report to a full stdout is an error too.
sgtrace record -- $leak >/dev/full 2>/tmp/err
rc=$?
result $((rc != 1)) "a leak, text report to a full stdout: exit $rc (expected 1)"

echo "$pass passed, $fail failed"
[ $fail = 0 ]
