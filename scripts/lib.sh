# shellcheck shell=bash
# Helpers shared by the set-up scripts in this folder. Sourced, never run.
# Every human message goes to stderr, so a script's stdout can carry a value.

say() { printf '%s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }
is_root() { [[ $(id -u) -eq 0 ]]; }
can_apt() { is_root && have apt-get; }

# Runs a noisy command and shows its output only when it fails. fd 3 is
# closed for it: a daemon it starts must not hold a caller's pipe open.
quietly() {
  local log rc=0
  log=$(mktemp)
  "$@" >"$log" 2>&1 3>&- || rc=$?
  if ((rc != 0)); then
    cat "$log" >&2
    say "error: '$*' failed (exit $rc)"
  fi
  rm -f "$log"
  return "$rc"
}

# Installs Debian packages without questions; the package lists are refreshed
# once per script, since a fresh machine may have none yet.
APT_UPDATED=""
apt_install() {
  if [[ -z $APT_UPDATED ]]; then
    quietly apt-get update -qq
    APT_UPDATED=1
  fi
  quietly env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

# Splits scheme://[user[:password]@]host[:port][/path][?query] into
# URL_USER, URL_HOST, URL_PORT and URL_PATH (the path without its slash).
# shellcheck disable=SC2034 # the URL_* variables are read by the caller
parse_url() {
  local url=$1 default_port=$2 rest
  rest=${url#*://}
  rest=${rest%%\?*}
  URL_PATH=""
  if [[ $rest == */* ]]; then
    URL_PATH=${rest#*/}
    rest=${rest%%/*}
  fi
  URL_USER=""
  if [[ $rest == *@* ]]; then
    URL_USER=${rest%@*}
    URL_USER=${URL_USER%%:*}
    rest=${rest##*@}
  fi
  URL_PORT=""
  if [[ $rest == \[* ]]; then # [IPv6]:port
    URL_HOST=${rest#\[}
    URL_HOST=${URL_HOST%%]*}
    rest=${rest#*]}
    URL_PORT=${rest#:}
  else
    URL_HOST=${rest%%:*}
    if [[ $rest == *:* ]]; then URL_PORT=${rest#*:}; fi
  fi
  URL_HOST=${URL_HOST:-127.0.0.1}
  URL_PORT=${URL_PORT:-$default_port}
  [[ $URL_PORT =~ ^[0-9]+$ ]] || die "cannot read a port number in $(redact_url "$url")"
}

# The URL with its password, if any, hidden, for messages.
redact_url() {
  local url=$1
  if [[ $url =~ ^([^:/]+://[^:/@]*):[^@/]*@(.*)$ ]]; then
    url="${BASH_REMATCH[1]}:***@${BASH_REMATCH[2]}"
  fi
  printf '%s\n' "$url"
}

# Only these hosts are "this machine" for starting a server ourselves.
is_loopback() {
  case $1 in
    localhost | 127.0.0.1 | ::1) return 0 ;;
    *) return 1 ;;
  esac
}

# True when something accepts TCP connections at host:port. bash's /dev/tcp
# has no timeout of its own, hence the timeout around it.
tcp_open() {
  # shellcheck disable=SC2016 # $1 and $2 belong to the inner bash
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}
