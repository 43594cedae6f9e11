#!/bin/sh
# Runs the postern suite in the foreground with conf/postern.conf (or the
# file given with -c): installs what it needs, builds, creates the
# unprivileged "postern" user the daemons drop to, and starts
# "postern run", which starts every enabled component, prints the Postfix
# main.cf lines to add, and supervises until Ctrl-C.
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh

conf=conf/postern.conf
if [ "${1:-}" = "-c" ] && [ -n "${2:-}" ]; then
    conf=$2
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" >/dev/null

if [ "$(id -u)" -eq 0 ] && ! getent passwd postern >/dev/null; then
    useradd --system --home-dir /var/lib/postern --no-create-home \
            --shell /usr/sbin/nologin --user-group postern
fi

exec ./build/bin/postern run -c "$conf"
