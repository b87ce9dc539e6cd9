#!/bin/sh
# The end-to-end tests drive the test rig with docker-compose (compose/), and
# run real clients (swaks, curl, openssl) from network namespaces (iproute2), and
# the mailbox tests' ManageSieve and IMAP clients (sieve-connect, mbsync, python3).
# On Debian as root, install what is missing from Debian's packages.
set -eu
missing=""
for tool in docker-compose:docker-compose swaks:swaks curl:curl openssl:openssl ip:iproute2 msmtp:msmtp sieve-connect:sieve-connect mbsync:isync python3:python3; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || missing="$missing ${tool#*:}"
done
if [ -z "$missing" ]; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "mailctl tests: missing:$missing (Debian: apt-get install$missing)" >&2
  exit 1
fi
echo "mailctl tests: installing Debian's$missing (apt-get)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null
