#!/usr/bin/env bash
# Makes sure the accessibility checks have axe-core, at the pinned version, installed
# from npm into .tools/axe (kept out of git). The browser tests inject it into each page.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

AXE_VERSION=4.14.1
prefix=.tools/axe
script=$prefix/node_modules/axe-core/axe.min.js
manifest=$prefix/node_modules/axe-core/package.json

installed_version() {
  [[ -f $manifest && -f $script ]] || return 1
  sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([^"]*\)".*/\1/p' "$manifest" | head -n 1
}

if [[ $(installed_version || true) == "$AXE_VERSION" ]]; then
  say "axe-core: using $AXE_VERSION in $prefix"
  exit 0
fi

if ! have npm; then
  can_apt || die "axe-core: npm is needed to install it (Debian: sudo apt-get install npm)."
  say "axe-core: installing Debian's npm with apt-get ..."
  apt_install npm
fi

say "axe-core: installing $AXE_VERSION from npm into $prefix ..."
mkdir -p "$prefix"
# A package.json of its own, so npm installs here and not in a parent folder's project.
[[ -f $prefix/package.json ]] || printf '{"private": true}\n' >"$prefix/package.json"
quietly npm install --prefix "$prefix" --no-audit --no-fund --ignore-scripts --save-exact \
  "axe-core@$AXE_VERSION"
[[ $(installed_version || true) == "$AXE_VERSION" ]] ||
  die "axe-core: npm finished but $script (version $AXE_VERSION) is missing"
say "axe-core: installed $AXE_VERSION"
