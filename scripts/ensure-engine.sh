#!/bin/sh
# Make sure a Docker engine answers. On a bare Debian host, as root, install
# Debian's docker.io and start dockerd in the background (opt-in: this script is
# only run by `make up` / `make test`, or by hand). Elsewhere: say what to install.
set -eu

LOG=${MAILCTL_DOCKERD_LOG:-/var/log/mailctl-dockerd.log}
WAIT=${MAILCTL_DOCKERD_WAIT:-60}

engine_answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

if engine_answers; then
  exit 0
fi

echo "mailctl: no Docker engine answers; trying to start one"

if ! command -v dockerd >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "mailctl: no Docker engine and no way to install one here: install Docker (https://docs.docker.com/engine/install/) or, on Debian as root, run: apt-get install docker.io" >&2
    exit 1
  fi
  echo "mailctl: installing Debian's docker.io (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends docker.io >/dev/null
fi
if ! command -v docker >/dev/null 2>&1; then
  echo "mailctl: dockerd is installed but the docker client is missing: apt-get install docker.io" >&2
  exit 1
fi

if [ "$(id -u)" != 0 ]; then
  echo "mailctl: dockerd is installed but not running, and starting it needs root: sudo systemctl start docker (or run as root)" >&2
  exit 1
fi

# Prefer the init system when there is one; a container or CI sandbox has none.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  echo "mailctl: starting docker with systemctl"
  systemctl start docker || true
fi
if ! engine_answers; then
  echo "mailctl: starting dockerd in the background (log: $LOG)"
  nohup dockerd >>"$LOG" 2>&1 &
fi

i=0
while ! engine_answers; do
  i=$((i + 1))
  if [ "$i" -gt "$WAIT" ]; then
    echo "mailctl: dockerd did not answer within ${WAIT}s; last lines of $LOG:" >&2
    tail -n 20 "$LOG" >&2 || true
    exit 1
  fi
  sleep 1
done
echo "mailctl: Docker engine $(docker version --format '{{.Server.Version}}') is up"
