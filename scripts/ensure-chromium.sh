#!/usr/bin/env bash
# Makes sure the browser tests have Debian's Chromium (never a browser build
# downloaded by a test tool). CHROMIUM_PATH, if set, names the binary to use.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

default=/usr/bin/chromium
chromium=${CHROMIUM_PATH:-$default}

if [[ -x $chromium ]]; then
  say "Chromium: using $chromium"
  exit 0
fi
# A path the user chose is not ours to replace with an install.
[[ -z ${CHROMIUM_PATH:-} ]] || die "Chromium: CHROMIUM_PATH=$CHROMIUM_PATH is not an executable file"

can_apt || die "Chromium: $default is missing and the browser tests need it.
Install Debian's package (sudo apt-get install chromium), or set CHROMIUM_PATH to a Chromium binary."
say "Chromium: installing Debian's chromium with apt-get ..."
apt_install chromium
[[ -x $default ]] || die "Chromium: the chromium package was installed but $default is still missing"
say "Chromium: installed $default ($("$default" --version 2>/dev/null || echo "version unknown"))"
