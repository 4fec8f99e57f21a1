#!/usr/bin/env bash
# Makes sure a Redis answers at REDIS_URL (default redis://127.0.0.1:6379/0):
# uses a running one, else starts (and if need be installs) a throwaway
# redis-server on this machine that keeps nothing on disk.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

# The app also reads REDIS_URL from .env; the environment wins, as in the app.
if [[ -z ${REDIS_URL:-} && -f .env ]]; then
  line=$(grep -iE '^[[:space:]]*(export[[:space:]]+)?REDIS_URL[[:space:]]*=' .env | tail -n 1 || true)
  if [[ -n $line ]]; then
    REDIS_URL=${line#*=}
    REDIS_URL=${REDIS_URL//[\"\'[:space:]]/}
  fi
fi
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}
shown=$(redact_url "$REDIS_URL")

# A Unix socket can only be checked, not started here.
if [[ $REDIS_URL == unix://* ]]; then
  socket=${REDIS_URL#unix://}
  socket=${socket%%\?*}
  if have redis-cli && [[ $(timeout 5 redis-cli -s "$socket" ping 2>/dev/null) == PONG ]]; then
    say "Redis: using the one running at $shown"
    exit 0
  fi
  die "Redis: nothing answers PING at $shown; start that Redis, or set REDIS_URL=redis://127.0.0.1:6379/0"
fi
[[ $REDIS_URL =~ ^rediss?:// ]] || die "REDIS_URL must start with redis://, rediss:// or unix:// (it is $shown)"
parse_url "$REDIS_URL" 6379

redis_answers() {
  if have redis-cli; then
    [[ $(timeout 5 redis-cli -u "$REDIS_URL" --no-auth-warning ping 2>/dev/null) == PONG ]]
  else
    # No client: speak the protocol by hand (no password support here).
    # shellcheck disable=SC2016 # $1 and $2 belong to the inner bash
    timeout 3 bash -c '
      exec 3<>"/dev/tcp/$1/$2"
      printf "PING\r\n" >&3
      IFS= read -r reply <&3
      [[ $reply == "+PONG"* ]]' _ "$URL_HOST" "$URL_PORT" 2>/dev/null
  fi
}

if redis_answers; then
  say "Redis: using the one running at $shown"
  exit 0
fi

# Something else holds the port: starting another server there would fail.
if tcp_open "$URL_HOST" "$URL_PORT"; then
  die "Redis: something listens at $URL_HOST:$URL_PORT but does not answer PING (a password missing from REDIS_URL? not Redis?).
Fix REDIS_URL, or free that port."
fi

is_loopback "$URL_HOST" ||
  die "Redis: nothing answers at $shown, and that host is not this machine, so it cannot be started here.
Start that Redis, or set REDIS_URL to one that runs (for instance redis://127.0.0.1:6379/0)."

installed=""
if ! have redis-server; then
  can_apt || die "Redis: nothing answers at $shown and redis-server is not installed.
Install it (on Debian: sudo apt-get install redis-server) or start a Redis there, then run this again."
  say "Redis: installing redis-server with apt-get ..."
  apt_install redis-server
  installed="installed redis-server and "
  # The package may have started its own service on the default port.
  if redis_answers; then
    say "Redis: installed redis-server; using the one its package started at $shown"
    exit 0
  fi
fi

bind=127.0.0.1
if [[ $URL_HOST == ::1 ]]; then bind=::1; fi
# No snapshots, no append-only file: a scratch server for the demo and tests.
# --dir keeps any stray file out of the work tree.
redis-server --daemonize yes --bind "$bind" --port "$URL_PORT" --save "" --appendonly no \
  --dir "${TMPDIR:-/tmp}" >/dev/null

for _ in $(seq 50); do
  if redis_answers; then
    say "Redis: ${installed}started redis-server on $bind:$URL_PORT"
    exit 0
  fi
  sleep 0.2
done
die "Redis: started redis-server on $bind:$URL_PORT but it did not answer PING within 10 s"
