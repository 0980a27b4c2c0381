#!/usr/bin/env bash
# Debian packages the test suite uses: Chromium (dashboard pages), Prometheus (promtool + a real server) and
# redis-server (the Redis-backed limiter and breaker tests start their own).
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" fonts-dejavu-core >/dev/null
  else
    echo "missing system packages (${need[*]}); run as root or install them" >&2
    exit 1
  fi
fi
