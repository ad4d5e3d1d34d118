#!/usr/bin/env bash
# Installs the pinned npm packages of the web demo (deploy/web: converse.js) and the browser
# tests (tests/browser: playwright-core) from their package-lock.json, only when node_modules
# is missing or was installed from another lock file. Once installed it never touches the
# network, so running it again (or offline) is a no-op. `ignore-scripts=true` in each .npmrc:
# no package needs an install script, and one dependency's postinstall once broke installs.
#   scripts/lib/npm_deps.sh [DIR...]    default: deploy/web tests/browser
# SPDX-License-Identifier: GPL-3.0-or-later
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)

command -v node >/dev/null && command -v npm >/dev/null ||
  { echo "npm_deps: node and npm (Node.js >= 20) are needed" >&2; exit 1; }

install_dir() {
  local dir=$1 want stamp
  [[ -f "$dir/package-lock.json" ]] || { echo "npm_deps: no $dir/package-lock.json" >&2; return 1; }
  want=$(sha1sum "$dir/package-lock.json" | cut -c1-40)
  stamp=$dir/node_modules/.salon-lock-sha1
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "npm_deps: ${dir#"$ROOT"/} up to date"
    return 0
  fi
  echo "npm_deps: installing ${dir#"$ROOT"/} from package-lock.json"
  # npm ci: exactly the lock file, fails instead of changing it.
  (cd "$dir" && npm ci --no-audit --no-fund --prefer-offline --loglevel=error)
  echo "$want" >"$stamp"
}

dirs=("$@")
((${#dirs[@]})) || dirs=("$ROOT/deploy/web" "$ROOT/tests/browser")
for d in "${dirs[@]}"; do install_dir "$(cd "$d" && pwd -P)"; done
