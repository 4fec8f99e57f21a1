#!/usr/bin/env bash
# Finds the PostgreSQL the tests should use and prints its URL as the only line
# on stdout (or nothing: the tests then run on SQLite only). Messages go to
# stderr, so a caller can write  url=$(scripts/ensure-postgres.sh).
#   TEST_POSTGRES_URL  target (default postgres://postgres@127.0.0.1:5432/test)
#   CI=true            PostgreSQL is required: a local one is installed,
#                      started and given the database if it is not there.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

# Keep stdout (as fd 3) for the URL alone; anything a command prints lands on
# stderr. Commands that may start a daemon run through quietly, which closes
# fd 3, or the caller's $(...) would wait for the daemon to exit.
exec 3>&1 1>&2

url=${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
shown=$(redact_url "$url")
[[ $url =~ ^postgres(ql)?:// ]] || die "TEST_POSTGRES_URL must start with postgres:// (it is $shown)"
parse_url "$url" 5432
user=${URL_USER:-postgres}
database=${URL_PATH:-$user}

pg_up() {
  if have pg_isready; then
    pg_isready -q -h "$URL_HOST" -p "$URL_PORT" -t 3
  else
    tcp_open "$URL_HOST" "$URL_PORT"
  fi
}

use_it() {
  printf '%s\n' "$url" >&3
  exit 0
}

if pg_up; then
  say "PostgreSQL: using $shown"
  use_it
fi

if [[ ${CI:-} != true ]]; then
  say "PostgreSQL: not reachable at $shown; the tests will run on SQLite only (set TEST_POSTGRES_URL or start PostgreSQL to cover it)"
  exit 0
fi

# From here on CI requires PostgreSQL: set up a local throwaway cluster.
cannot() {
  die "PostgreSQL: CI needs it, but nothing answers at $shown and $1.
Start PostgreSQL there, or point TEST_POSTGRES_URL at one that runs."
}
is_loopback "$URL_HOST" || cannot "that host is not this machine"
is_root || cannot "setting one up here needs root"

done_steps=()
if ! have pg_ctlcluster || [[ -z $(ls /etc/postgresql 2>/dev/null) ]]; then
  have apt-get || cannot "it is not installed and apt-get is missing"
  say "PostgreSQL: installing postgresql with apt-get ..."
  apt_install postgresql
  done_steps+=("installed postgresql")
fi
version=$(find /etc/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1)
[[ -n $version ]] || cannot "no PostgreSQL cluster is configured in /etc/postgresql"

# Use the cluster that owns the port; never move an existing cluster.
cluster=$(pg_lsclusters -h | awk -v v="$version" -v p="$URL_PORT" '$1 == v && $3 == p { print $2; exit }')
if [[ -z $cluster ]]; then
  cluster=main
  if [[ -d /etc/postgresql/$version/main ]]; then cluster="test$URL_PORT"; fi
  quietly pg_createcluster "$version" "$cluster" --port "$URL_PORT"
  done_steps+=("created cluster $version/$cluster")
fi

# Local TCP logins need no password on this test-only cluster; the first
# matching pg_hba.conf line wins, so these go on top.
hba=/etc/postgresql/$version/$cluster/pg_hba.conf
marker="# test cluster: trust local TCP logins"
if ! grep -qxF "$marker" "$hba"; then
  {
    printf '%s\n' "$marker" "host all all 127.0.0.1/32 trust" "host all all ::1/128 trust"
    cat "$hba"
  } >"$hba.new"
  cat "$hba.new" >"$hba" # rewrite in place to keep owner and mode
  rm -f "$hba.new"
  done_steps+=("trusted local TCP logins")
fi

if pg_ctlcluster "$version" "$cluster" status >/dev/null 2>&1 3>&-; then
  quietly pg_ctlcluster "$version" "$cluster" reload
else
  quietly pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start
  done_steps+=("started cluster $version/$cluster on port $URL_PORT")
fi
for _ in $(seq 30); do
  if pg_up; then break; fi
  sleep 0.5
done
pg_up || cannot "cluster $version/$cluster did not accept connections within 15 s"

# Role and database, as the postgres superuser over the local socket.
as_postgres() { (cd / && runuser -u postgres -- "$@"); }
exists() { # exists CATALOG COLUMN NAME
  [[ $(printf "select 1 from %s where %s = :'name';\n" "$1" "$2" |
    as_postgres psql -p "$URL_PORT" -X -Atq -v name="$3") == 1 ]]
}
if ! exists pg_roles rolname "$user"; then
  quietly as_postgres createuser -p "$URL_PORT" --superuser "$user"
  done_steps+=("created role $user")
fi
if ! exists pg_database datname "$database"; then
  quietly as_postgres createdb -p "$URL_PORT" --owner "$user" "$database"
  done_steps+=("created database $database")
fi

if ((${#done_steps[@]})); then
  summary=$(printf '%s, ' "${done_steps[@]}")
  say "PostgreSQL: ${summary%, }; using $shown"
else
  say "PostgreSQL: using $shown"
fi
use_it
