#!/usr/bin/env bash
# Browser tests need Debian's chromium and a CJK font, translations need gettext; install them when we may (root), else say so.
set -euo pipefail
if [ -x /usr/bin/chromium ] && command -v msgfmt >/dev/null && fc-list 2>/dev/null | grep -qi "wenquanyi\|wqy"; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing chromium and fonts-wqy-zenhei for the browser tests…"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei gettext >/dev/null
else
  echo "chromium or fonts-wqy-zenhei is missing: 'sudo apt-get install chromium fonts-wqy-zenhei'." >&2
  [ -n "${CI:-}" ] && exit 1
fi
