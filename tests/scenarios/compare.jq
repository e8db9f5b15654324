# compare.jq: sgtrace's findings against sgstress's ground truth, per kind and per device.
#   jq -n --slurpfile trace trace.json --slurpfile truth truth.json -f compare.jq
# Output: {ok, lost, rows: [{kind, device, expected, reported}], per_kind: {kind: {tp, fp, fn}}}.
# A row matches when reported == expected; any finding the truth does not expect (another kind,
# another device, one more) is a false positive.
def known_kinds: ["leak", "outlives_unbind", "freed_while_mapped", "unmap_unknown",
                  "unmap_mismatch", "unmap_after_unbind", "map_failed"];

($truth[0]) as $t
| ($trace[0]) as $r
| ([$t.devices[] | {key: .name, value: .expected}] | from_entries) as $exp
| (reduce ($r.findings // [])[] as $f ({};
      .[$f.device // "?"][$f.kind // "?"] += ($f.count // 1))) as $rep
| ([$exp[], $rep[] | keys[]] | unique) as $seen_kinds
| (known_kinds + ($seen_kinds - known_kinds)) as $kinds
| ([$exp, $rep | keys[]] | unique) as $devices
| [ $devices[] as $d | $kinds[] as $k
    | { kind: $k, device: $d,
        expected: ($exp[$d][$k] // 0), reported: ($rep[$d][$k] // 0) } ] as $rows
| { ok: (all($rows[]; .expected == .reported) and (($r.totals.lost // 0) == 0)),
    lost: ($r.totals.lost // 0),
    rows: $rows,
    per_kind: (reduce $rows[] as $x ({};
        .[$x.kind].tp += ([$x.expected, $x.reported] | min)
      | .[$x.kind].fp += ([$x.reported - $x.expected, 0] | max)
      | .[$x.kind].fn += ([$x.expected - $x.reported, 0] | max))) }
