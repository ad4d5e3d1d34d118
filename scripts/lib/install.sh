#!/usr/bin/env bash
# Installs the Debian 12 packages salon needs to build, test and run its demo.
# Only what is missing is installed; `apt-get update` runs only then. Needs root (or sudo).
# SPDX-License-Identifier: GPL-3.0-or-later
set -euo pipefail

SALON_PACKAGES=(
  build-essential cmake pkg-config
  libgloox-dev libpqxx-dev libfmt-dev libboost-dev libboost-system-dev libssl-dev
  libcurl4-openssl-dev nlohmann-json3-dev libtomlplusplus-dev libgtest-dev libgmock-dev
  libkainjow-mustache-dev
  libsystemd-dev libjemalloc-dev systemd
  clang-15 libfuzzer-15-dev
  postgresql prosody ejabberd
  python3-slixmpp python3-aiosmtpd python3-pytest python3-requests
  chromium tmux curl profanity
)

missing_packages() {
  local pkg status
  for pkg in "${SALON_PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [[ "$status" == installed ]] || printf '%s\n' "$pkg"
  done
}

# If a package install starts Debian's own postgresql/prosody/ejabberd service (it does on a
# systemd box), we leave it alone: salon's private instances use their own directories, ports
# and Erlang node name, so they never depend on or clash with the system services.

main() {
  local -a missing
  mapfile -t missing < <(missing_packages)
  if ((${#missing[@]} == 0)); then
    echo "install: all ${#SALON_PACKAGES[@]} packages present"
    return 0
  fi
  local sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null || { echo "install: need root to install: ${missing[*]}" >&2; return 1; }
    sudo=(sudo)
  fi
  echo "install: missing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "${missing[@]}"
  mapfile -t missing < <(missing_packages)
  if ((${#missing[@]})); then
    echo "install: still missing after apt-get: ${missing[*]}" >&2
    return 1
  fi
}

main "$@"
