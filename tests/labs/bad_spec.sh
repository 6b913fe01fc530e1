#!/bin/sh
# tests/labs/bad_spec.sh WEFT PROGRAM SPEC - a broken grade.spec is refused with exit 2 and a
# message naming the file, the line and what is wrong (the '# expect:' line of SPEC), and
# nothing is graded.
set -u
weft=$1 program=$2 spec=$3
want=$(sed -n 's/^# expect: //p' "$spec" | head -n 1)
out=$("$weft" lab check 01 --program "$program" --spec "$spec" 2>&1)
rc=$?
if [ "$rc" -ne 2 ]; then
    echo "expected exit 2 for $spec, got $rc:"; echo "$out"; exit 1
fi
case $out in
*"$spec"*) ;;
*) echo "the message does not name $spec:"; echo "$out"; exit 1 ;;
esac
case $out in
*"$want"*) ;;
*) echo "expected '$want' in:"; echo "$out"; exit 1 ;;
esac
case $out in
*Score*) echo "graded despite the bad spec:"; echo "$out"; exit 1 ;;
esac
exit 0
