#!/bin/sh
# The end-to-end tests drive the test rig with docker-compose (compose/).
# On Debian as root, install Debian's docker-compose when it is missing.
set -eu
if command -v docker-compose >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "mailctl tests: docker-compose is missing: install it (Debian: apt-get install docker-compose)" >&2
  exit 1
fi
echo "mailctl tests: installing Debian's docker-compose (apt-get)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends docker-compose >/dev/null
