#!/bin/sh
# why.sh - time "postern why" on a large audit log: by queue id, by
# Message-ID, by sender and by time, each with the file out of the page
# cache (cold) and in it (warm). Results are in docs/audit-log.md.
#
#   bench/why.sh [--build DIR] [--log FILE] [--size MB] [--runs N]
#
# FILE (default /tmp/postern-why-bench.jsonl) is written by audit-gen
# (bench/audit_gen.c) with SIZE megabytes (default 1024) unless it is
# there already with its needle file FILE.needle. Cold runs first evict
# only FILE from the page cache (posix_fadvise DONTNEED), nothing else.
# Prints one line per run: query, cache, wall, user and system seconds,
# and the lines of output (which must not be 0).
set -eu

build=build
log=/tmp/postern-why-bench.jsonl
size=1024
runs=3
while [ $# -gt 0 ]; do
    case "$1" in
    --build) build=$2; shift 2 ;;
    --log) log=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "usage: bench/why.sh [--build DIR] [--log FILE] [--size MB] [--runs N]" >&2
       exit 64 ;;
    esac
done
postern=$build/bin/postern
[ -x "$postern" ] || { echo "why.sh: build $build first" >&2; exit 66; }

if [ ! -s "$log" ] || [ ! -s "$log.needle" ]; then
    [ -x "$build/bin/audit-gen" ] || { echo "why.sh: no $build/bin/audit-gen" >&2; exit 66; }
    echo "generating $log ($size MB)"
    "$build/bin/audit-gen" "$log" "$size" > "$log.needle"
fi
value() { sed -n "s/^$1=//p" "$log.needle"; }
qid=$(value qid)
msgid=$(value msgid)
from=$(value from)
since=$(value since)
echo "$(du -h "$log" | cut -f1) $log: $(value records) records;" \
     "qid=$qid msgid=$msgid from=$from since=$since"

evict() {
    python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
os.fsync(fd)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)' "$log"
}

out=$(mktemp)
trap 'rm -f "$out" "$out.t"' EXIT
measure() {     # name cache args...
    name=$1; cache=$2; shift 2
    [ "$cache" = cold ] && evict
    /usr/bin/time -f "%e %U %S" -o "$out.t" "$postern" why -f "$log" "$@" > "$out" || true
    printf '%-12s %-5s wall %6ss user %6ss sys %6ss lines %s\n' "$name" "$cache" \
        $(cat "$out.t") "$(wc -l < "$out")"
}

query() {       # name args...
    name=$1; shift
    measure "$name" cold "$@"
    i=0
    while [ $i -lt "$runs" ]; do
        measure "$name" warm "$@"
        i=$((i + 1))
    done
}

query queue-id "$qid"
query message-id --message-id "$msgid"
query from --from "$from"
query since --since "$since"
