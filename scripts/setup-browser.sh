#!/usr/bin/env bash
# Make sure a Chromium is available for the end-to-end browser test
# (web/test/console.browser.test.ts, driven by playwright-core). Idempotent: does nothing when
# `chromium` is on PATH or CHROMIUM_PATH names an executable; otherwise installs Debian's
# `chromium` package with apt-get (as root, or through sudo when available).
#
#   scripts/setup-browser.sh        # run by the vitest `browser` project's global setup (test/browser.global-setup.ts)
#
# Why Debian's package and not `npx playwright install`: it needs no download from the Playwright
# CDN at test time and is patched by the distribution; playwright-core only drives it.
# SKIP_BROWSER_TESTS=1 skips the browser test, so nothing is installed then.
set -euo pipefail

if [ "${SKIP_BROWSER_TESTS:-}" = "1" ]; then
  echo "setup-browser: SKIP_BROWSER_TESTS=1, nothing to install"
  exit 0
fi

if [ -n "${CHROMIUM_PATH:-}" ]; then
  if [ -x "$CHROMIUM_PATH" ]; then
    echo "setup-browser: using CHROMIUM_PATH=$CHROMIUM_PATH"
    exit 0
  fi
  echo "setup-browser: CHROMIUM_PATH=$CHROMIUM_PATH is not an executable" >&2
  exit 1
fi

if command -v chromium >/dev/null 2>&1; then
  found="$(command -v chromium)"
  echo "setup-browser: chromium already installed at $found"
  # The test defaults to /usr/bin/chromium; elsewhere it needs CHROMIUM_PATH.
  [ "$found" = "/usr/bin/chromium" ] || echo "setup-browser: export CHROMIUM_PATH=$found for the browser test"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "setup-browser: chromium is missing and this user cannot apt-get install it (not root, no sudo)" >&2
    exit 1
  fi
fi

echo "setup-browser: installing Debian's chromium package"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium
command -v chromium >/dev/null 2>&1 || { echo "setup-browser: chromium still not on PATH after install" >&2; exit 1; }
echo "setup-browser: chromium installed at $(command -v chromium)"
