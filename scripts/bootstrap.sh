#!/usr/bin/env bash
# Puts the exact locked dependencies (dev group included) into .venv, using a
# pinned uv kept in .tools. Safe to run again at any time.
#   PYTHON=/path/to/python3.11   use that interpreter instead of searching PATH
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

UV_VERSION=0.13.9

# Prints the real path of the first Python 3.11 found (through pyenv shims too).
find_python() {
  local candidate
  for candidate in ${PYTHON:+"$PYTHON"} python3.11 python3; do
    if have "$candidate" &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      "$candidate" -c 'import sys; print(sys.executable)'
      return 0
    fi
  done
  return 1
}

if ! python=$(find_python); then
  can_apt || die "Python 3.11 is needed and was not found (tried ${PYTHON:+$PYTHON, }python3.11 and python3).
Install it (on Debian: apt-get install python3.11 python3.11-venv), or set PYTHON=/path/to/python3.11."
  say "Installing Python 3.11 with apt-get ..."
  apt_install python3.11 python3.11-venv
  python=$(find_python) || die "python3.11 was installed but still cannot be found on PATH"
fi

# Debian splits venv support into its own package.
if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
  can_apt || die "$python cannot create virtual environments; install python3.11-venv (Debian) and run this again."
  say "Installing python3.11-venv with apt-get ..."
  apt_install python3.11-venv
fi

# uv lives in its own venv so that the pinned version never depends on the machine.
uv=.tools/bin/uv
if [[ $("$uv" --version 2>/dev/null) != "uv $UV_VERSION"* ]]; then
  say "Installing uv $UV_VERSION into .tools ..."
  quietly "$python" -m venv --clear .tools
  quietly .tools/bin/python -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi

# uv must use this interpreter and this folder, whatever the caller has active.
export UV_PROJECT_ENVIRONMENT=.venv UV_PYTHON_DOWNLOADS=never
unset VIRTUAL_ENV
say "Installing dependencies from uv.lock into .venv ..."
quietly "$uv" sync --frozen --python "$python"
