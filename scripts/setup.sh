#!/bin/sh
# Installs every Debian 12 package postern needs to build, run and test.
# Idempotent: when everything is present it does nothing and needs no network.
# Services that packages would start (redis, postfix) are kept from starting:
# the test harness runs its own private instances on loopback.
set -eu

PKGS="
build-essential cmake pkg-config clang libclang-rt-14-dev
libinih-dev libjansson-dev libssl-dev libmilter-dev libunbound-dev
libcmocka-dev scdoc libevent-dev libmicrohttpd-dev libhiredis-dev libclamav-dev clamav-daemon clamav-testfiles
postfix dnsmasq-base redis-server miltertest swaks postfwd
python3 python3-pytest
iproute2 procps
"

missing=""
for p in $PKGS; do
    st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$st" = "installed" ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing packages:$missing; run as root to install them" >&2
    exit 1
fi

echo "setup: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# Postfix must not configure or start a system instance.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections

made_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
fi
cleanup() { [ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d; return 0; }
trap cleanup EXIT

apt-get update -q || true
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
