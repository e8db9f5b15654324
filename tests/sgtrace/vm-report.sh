#!/bin/sh
# Runs in the guest: `sgtrace record` with a real finding (an sgkm leak_mapping) and a report
# that cannot be written. An operational error wins over the findings' exit status 3 and names
# the file; a regular file that cannot be written keeps its old content. Then a traced task
# whose name (comm) holds an escape sequence and is cut by the kernel inside a UTF-8 character:
# the JSON is valid UTF-8, the text report escapes the controls.
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

# comm = the first 15 bytes of the file name: "ab" ESC "[2Jcdefghij" and the first byte of
# the 2-byte "é". sgtrace_sgkm_case runs under that name through a symbolic link.
name=$(printf 'ab\033[2Jcdefghij\303\251')
ln -s "$(command -v sgtrace_sgkm_case)" "/tmp/$name"
sgtrace record --json /tmp/c.json -- "/tmp/$name" leak_mapping 1 >/tmp/c.txt 2>/tmp/err
rc=$?
result $((rc != 3)) "a task with an odd name: exit $rc (expected 3)"
sgtrace_check /tmp/c.json leak=1 utf8 "comm=$(printf 'ab\033[2Jcdefghij\357\277\275')"
result $? "JSON: valid UTF-8, comm with ESC as \\u001b and the cut character as U+FFFD"
grep -qF 'pid' /tmp/c.txt && grep -qF '(ab\x1b[2Jcdefghij\xc3)' /tmp/c.txt
result $? "text: the comm escaped ($(grep -F 'pid' /tmp/c.txt | head -n 1))"
! grep -q "$(printf '\033')" /tmp/c.txt
result $? "text: no ESC reaches the terminal"
rm -f "/tmp/$name"

echo "$pass passed, $fail failed"
[ $fail = 0 ]
