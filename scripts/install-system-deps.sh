#!/usr/bin/env bash
# Installs the Debian packages named as arguments when they are missing (default: all the project uses):
#   prometheus     promtool, live metrics tests, the native stack (make demo, make metrics)
#   chromium       the load generator UI browser test (make test)
#   docker.io      the stack tests start their own Docker engine on a private socket (make test)
#   docker-compose the compose test (make test)
#   prometheus-alertmanager  alerts sent on by Prometheus (make metrics), the Alertmanager live test (make test)
#   redis-server   shared state tests: router replicas sharing rate limits and cooldowns (make test)
# Safe to run repeatedly; does nothing when everything is present.
set -euo pipefail
[ $# -eq 0 ] && set -- prometheus prometheus-alertmanager chromium docker.io docker-compose redis-server
present() {
  case "$1" in
    prometheus) command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 ;;
    chromium) [ -x /usr/bin/chromium ] ;;
    docker.io) command -v dockerd >/dev/null 2>&1 ;;
    docker-compose) command -v docker-compose >/dev/null 2>&1 ;;
    redis-server) command -v redis-server >/dev/null 2>&1 ;;
    prometheus-alertmanager) command -v prometheus-alertmanager >/dev/null 2>&1 ;;
    *) echo "install-system-deps: unknown package '$1' (known: prometheus prometheus-alertmanager chromium docker.io docker-compose redis-server)" >&2; exit 2 ;;
  esac
}
need=()
for pkg in "$@"; do present "$pkg" || need+=("$pkg"); done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "Missing: ${need[*]}. Install with: sudo apt-get install ${need[*]} (Debian/Ubuntu), or your OS's package manager." >&2
  exit 1
fi
echo "Installing ${need[*]} from Debian's archive..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
