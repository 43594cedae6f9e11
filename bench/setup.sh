#!/bin/sh
# bench/setup.sh: installs the Debian programs bench/run compares postern
# against (the peers), on top of what scripts/setup.sh installs for the
# test suite. Idempotent; needs the network only when something is missing.
# Peer daemons must not start as system services: bench/run starts its own.
#
#   bench/setup.sh            the peers of the components bench/run knows
#   bench/setup.sh PKG...     only these packages
set -eu

want=${*:-"opendkim opendkim-tools clamav-daemon clamav-milter postfwd postfix-policyd-spf-python
    opendmarc rspamd publicsuffix python3-dkim
    mimedefang libarchive-zip-perl libfile-libmagic-perl"}

need=""
for pkg in $want; do
    if ! dpkg-query -W -f='${db:Status-Status}\n' "$pkg" 2>/dev/null |
            grep -qx installed; then
        need="$need $pkg"
    fi
done
if [ -z "$need" ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "bench/setup.sh: needs root to install:$need" >&2
    exit 1
fi

# Keep maintainer scripts from starting opendkim, clamd and friends.
blocker=/usr/sbin/policy-rc.d
own_blocker=no
if [ ! -e "$blocker" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$blocker"
    chmod 0755 "$blocker"
    own_blocker=yes
fi
trap '[ "$own_blocker" = yes ] && rm -f "$blocker"' EXIT

echo "bench/setup.sh: installing$need"
DEBIAN_FRONTEND=noninteractive
export DEBIAN_FRONTEND
apt-get update -q >/dev/null || true
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $need
