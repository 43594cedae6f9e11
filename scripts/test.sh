#!/bin/sh
# The whole test suite: installs what it needs, builds, and runs
#   1. the release build's unit + integration tests (real Postfix, dnsmasq,
#      redis-server and miltertest on loopback),
#   2. the same tests on an AddressSanitizer + UBSan build,
#   3. every libFuzzer target for a short bounded time,
#   4. an install into a staging directory.
# Ends with one summary line "N passed, N failed".
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
./scripts/setup.sh

jobs=$(nproc 2>/dev/null || echo 2)
fuzz_seconds=${POSTERN_FUZZ_SECONDS:-15}
t0=$(date +%s)
passed=0
failed=0
logdir=$(mktemp -d /tmp/postern-test.XXXXXX)

# Adds a ctest run's counts from its "N% tests passed, F tests failed out of T".
count_ctest() {
    line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$1" | tail -n 1)
    if [ -z "$line" ]; then
        echo "test.sh: no ctest summary in $1" >&2
        failed=$((failed + 1))
        return
    fi
    f=$(echo "$line" | sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/')
    t=$(echo "$line" | sed -E 's/.* failed out of ([0-9]+).*/\1/')
    passed=$((passed + t - f))
    failed=$((failed + f))
}

run_ctest() {        # build-dir label
    echo "=== ctest: $2 ($1)"
    ctest --test-dir "$1" -j"$jobs" --output-on-failure --timeout 600 \
        2>&1 | tee "$logdir/$2.log" || true
    count_ctest "$logdir/$2.log"
}

echo "=== build: release"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
cmake --build build -j"$jobs"

echo "=== install into a staging directory"
stage="$logdir/stage"
install_ok=1
DESTDIR="$stage" cmake --install build >"$logdir/install.log" 2>&1 || install_ok=0
for f in usr/sbin/postern usr/sbin/postern-policyd etc/postern/postern.conf \
         usr/share/man/man8/postern.8 usr/share/man/man8/postern-policyd.8 \
         usr/share/man/man5/postern.conf.5 usr/lib/systemd/system/postern@.service \
         usr/lib/tmpfiles.d/postern.conf; do
    [ -e "$stage/$f" ] || { echo "install: missing $f"; install_ok=0; }
done
# The installed command must accept the installed sample config.
if [ "$install_ok" -eq 1 ] && ! "$stage/usr/sbin/postern" check \
        -c "$stage/etc/postern/postern.conf" >>"$logdir/install.log" 2>&1; then
    echo "install: postern check rejects the installed config"; install_ok=0
fi
if [ "$install_ok" -eq 1 ]; then
    passed=$((passed + 1)); echo "install: ok"
else
    failed=$((failed + 1)); echo "install: FAILED"; cat "$logdir/install.log"
fi

echo "=== build: AddressSanitizer + UndefinedBehaviorSanitizer"
CC=clang cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DPOSTERN_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    run_ctest build-asan sanitizers

echo "=== fuzz: ${fuzz_seconds}s per target"
CC=clang cmake -S . -B build-fuzz -DPOSTERN_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j"$jobs"
for fz in build-fuzz/tests/fuzz_*; do
    [ -x "$fz" ] || continue
    name=$(basename "$fz" | sed 's/^fuzz_//')
    corpus="$logdir/corpus-$name"
    mkdir -p "$corpus" build-fuzz/artifacts
    [ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$corpus/"
    if "$fz" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 \
         -artifact_prefix="build-fuzz/artifacts/$name-" "$corpus" \
         >"$logdir/fuzz-$name.log" 2>&1; then
        passed=$((passed + 1))
        echo "fuzz $name: ok ($(grep -Eo 'Done [0-9]+ runs' "$logdir/fuzz-$name.log" | tail -n 1))"
    else
        failed=$((failed + 1))
        echo "fuzz $name: FAILED"; tail -n 40 "$logdir/fuzz-$name.log"
    fi
done

run_ctest build release

t1=$(date +%s)
echo "=== wall time: $((t1 - t0)) s (logs in $logdir)"
echo "postern: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
