#!/usr/bin/env bash
# Install Debian's chromium for the browser tests (test/browser), idempotently. Never downloads a
# browser build of its own: playwright-core drives /usr/bin/chromium from the distribution.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium fonts-dejavu-core
command -v chromium >/dev/null
