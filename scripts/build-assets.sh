#!/usr/bin/env bash
# Copy front-end libraries from npm into the package's static folder (git-ignored, shipped in the wheel).
set -euo pipefail
cd "$(dirname "$0")/.."
out=src/guanxi/web/static/vendor
if [ -f "$out/.built" ] && [ "$out/.built" -nt package-lock.json ]; then exit 0; fi
npm ci --no-audit --no-fund --loglevel=error
mkdir -p "$out"
cp node_modules/echarts/dist/echarts.min.js "$out/"
cp node_modules/sortablejs/Sortable.min.js "$out/"
touch "$out/.built"
