#!/bin/sh
# Installs every Debian 12 package postern needs to build, run and test.
# Idempotent: when everything is present it does nothing and needs no network.
# Services that packages would start (redis, postfix) are kept from starting:
# the test harness runs its own private instances on loopback.
set -eu

PKGS="
build-essential cmake pkg-config clang libclang-rt-14-dev
libinih-dev libjansson-dev libssl-dev libmilter-dev libunbound-dev
libopendkim-dev opendkim-tools libmail-dkim-perl python3-dkim
libcmocka-dev scdoc libevent-dev libmicrohttpd-dev libhiredis-dev libspf2-dev libclamav-dev clamav-daemon clamav-testfiles
libgmime-3.0-dev libmagic-dev libarchive-dev zip
postfix dnsmasq-base redis-server miltertest swaks postfwd sasl2-bin libsasl2-modules
python3 python3-pytest python3-yaml
iproute2 procps
m4 libwrap0
libopendmarc-dev publicsuffix libsqlite3-dev libxml2-dev libxml2-utils zlib1g-dev
"

# Sendmail 8.17 for tests/integration/test_sendmail.py. Installing it would
# replace Postfix (both provide mail-transport-agent), so Debian's packages
# are unpacked into a private tree instead; m4 and libwrap0 (above) are what
# that tree needs from the system. Network: the Debian mirror only.
SENDMAIL_CACHE=/var/cache/postern-test/sendmail
setup_sendmail() {
    [ -e "$SENDMAIL_CACHE/root/.complete" ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup: no private Sendmail in $SENDMAIL_CACHE; run as root to unpack it" >&2
        return 0
    fi
    echo "setup: unpacking sendmail-bin, sendmail-base, sendmail-cf into $SENDMAIL_CACHE/root"
    mkdir -p "$SENDMAIL_CACHE"
    rm -rf "$SENDMAIL_CACHE/root.tmp" "$SENDMAIL_CACHE"/*.deb
    (cd "$SENDMAIL_CACHE" && apt-get download -q -o APT::Sandbox::User=root \
        sendmail-bin sendmail-base sendmail-cf)
    for deb in "$SENDMAIL_CACHE"/*.deb; do
        dpkg -x "$deb" "$SENDMAIL_CACHE/root.tmp"
    done
    if ldd "$SENDMAIL_CACHE/root.tmp/usr/libexec/sendmail/sendmail" | grep -q "not found"; then
        echo "setup: the private sendmail misses libraries:" >&2
        ldd "$SENDMAIL_CACHE/root.tmp/usr/libexec/sendmail/sendmail" | grep "not found" >&2
        return 1
    fi
    touch "$SENDMAIL_CACHE/root.tmp/.complete"
    rm -rf "$SENDMAIL_CACHE/root"
    mv "$SENDMAIL_CACHE/root.tmp" "$SENDMAIL_CACHE/root"
}

missing=""
for p in $PKGS; do
    st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$st" = "installed" ] || missing="$missing $p"
done
if [ -z "$missing" ]; then
    setup_sendmail
    exit 0
fi

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
setup_sendmail
