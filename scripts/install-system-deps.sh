#!/usr/bin/env bash
# Installs the Debian packages the project needs beyond Node: prometheus (promtool, live metrics tests,
# native stack), chromium (the load generator UI browser test), docker.io and docker-compose (the stack
# tests start their own Docker engine on a private socket).
# Safe to run repeatedly; does nothing when everything is present.
set -euo pipefail
need=()
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "Missing: ${need[*]}. Install with: sudo apt-get install ${need[*]} (Debian/Ubuntu), or your OS's package manager." >&2
  exit 1
fi
echo "Installing ${need[*]} from Debian's archive..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
