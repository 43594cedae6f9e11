#!/bin/sh
# audit_cost.sh - the cost of one audit record: instructions (callgrind)
# and system calls (strace) per audit_write(), from two runs of
# bench/audit_write.c with N and 2N records, so start-up cancels out.
#
#   bench/audit_cost.sh [--build DIR] [--records N]
#
# Prints instructions per record for the whole program (the caller's
# json_pack of "extra" included) and for audit_write() alone (inclusive),
# and system calls per record. Needs valgrind and strace.
set -eu
build=build
n=2000
while [ $# -gt 0 ]; do
    case "$1" in
    --build) build=$2; shift 2 ;;
    --records) n=$2; shift 2 ;;
    *) echo "usage: $0 [--build DIR] [--records N]" >&2; exit 64 ;;
    esac
done
bin=$build/bin/audit-write
[ -x "$bin" ] || { echo "$0: $bin missing: cmake --build $build --target audit-write" >&2; exit 66; }
tmp=$(mktemp -d /tmp/postern-audit-cost.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM

# total Ir and audit_write's inclusive Ir of one callgrind run of K records
ir() {
    valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$1" "$bin" "$tmp/cg$1.jsonl" "$1" \
        >/dev/null 2>&1
    total=$(callgrind_annotate "$tmp/cg.$1" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
    incl=$(callgrind_annotate --inclusive=yes "$tmp/cg.$1" 2>/dev/null \
        | awk '/:audit_write \[/ { gsub(",", "", $1); print $1; exit }')
    echo "$total $incl"
}

# system calls of one strace run of K records
sc() {
    strace -f -c -o "$tmp/st.$1" "$bin" "$tmp/st$1.jsonl" "$1" >/dev/null
    awk '$NF == "total" { print $4 }' "$tmp/st.$1"
}

set -- $(ir "$n")
t1=$1 a1=$2
set -- $(ir $((2 * n)))
t2=$1 a2=$2
s1=$(sc "$n")
s2=$(sc $((2 * n)))
echo "records: $n and $((2 * n))"
echo "instructions/record (program): $(( (t2 - t1) / n ))"
echo "instructions/record (audit_write): $(( (a2 - a1) / n ))"
awk -v a="$s1" -v b="$s2" -v n="$n" 'BEGIN { printf "syscalls/record: %.2f\n", (b - a) / n }'
"$build/bin/postern" audit verify "$tmp/cg$((2 * n)).jsonl"
