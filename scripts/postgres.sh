#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests, on 127.0.0.1 only, with trust auth and no fsync.
#   eval "$(bash scripts/postgres.sh start)"   # starts it, prints `export INFODEMIC_TEST_POSTGRES=...`
#   bash scripts/postgres.sh stop              # stops it and removes its data
# Installs Debian's postgresql when initdb is missing. PostgreSQL refuses to run as root, so as
# root the server runs as the `postgres` user (made by Debian's package), else as `nobody`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="$root/target/postgres.env"

find_bin() {
  local dir
  for dir in "$(pg_config --bindir 2>/dev/null || true)" $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [[ -n "$dir" && -x "$dir/initdb" ]]; then echo "$dir"; return 0; fi
  done
  command -v initdb >/dev/null 2>&1 && dirname "$(readlink -f "$(command -v initdb)")" && return 0
  return 1
}

as_server_user() {
  if [[ "$(id -u)" == 0 ]]; then
    local user=postgres
    getent passwd postgres >/dev/null || user=nobody
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

stop() {
  [[ -f "$state" ]] || return 0
  # shellcheck disable=SC1090
  source "$state"
  if [[ -n "${PG_BIN:-}" && -d "${PG_DATA:-}" ]]; then
    as_server_user "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$(dirname "$PG_DATA")"
  fi
  rm -f "$state"
}

start() {
  stop
  local bin
  if ! bin="$(find_bin)"; then
    echo "PostgreSQL not found; installing Debian's postgresql" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
    bin="$(find_bin)"
  fi
  local base data port
  base="$(mktemp -d /tmp/infodemic-pg.XXXXXX)"
  data="$base/data"
  if [[ "$(id -u)" == 0 ]]; then
    chown "$(getent passwd postgres >/dev/null && echo postgres || echo nobody)" "$base"
  fi
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  as_server_user "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$base/initdb.log" 2>&1 \
    || { cat "$base/initdb.log" >&2; exit 1; }
  # TLS for the `sslmode=require` tests: a throwaway CA, and a certificate for 127.0.0.1 that
  # it signs (the client verifies it against the CA, named by INFODEMIC_TEST_POSTGRES_CA).
  if ! command -v openssl >/dev/null 2>&1; then
    echo "openssl not found; installing Debian's openssl" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >&2
  fi
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=infodemic test CA" \
    -keyout "$base/ca.key" -out "$base/ca.crt" >"$base/openssl.log" 2>&1 || { cat "$base/openssl.log" >&2; exit 1; }
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$data/server.key" -out "$base/server.csr" \
    >>"$base/openssl.log" 2>&1 || { cat "$base/openssl.log" >&2; exit 1; }
  printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >"$base/server.ext"
  openssl x509 -req -in "$base/server.csr" -CA "$base/ca.crt" -CAkey "$base/ca.key" -CAcreateserial -days 2 \
    -extfile "$base/server.ext" -out "$data/server.crt" >>"$base/openssl.log" 2>&1 \
    || { cat "$base/openssl.log" >&2; exit 1; }
  chmod 600 "$data/server.key"
  if [[ "$(id -u)" == 0 ]]; then
    chown "$(getent passwd postgres >/dev/null && echo postgres || echo nobody)" "$data/server.key" "$data/server.crt"
  fi
  as_server_user "$bin/pg_ctl" -D "$data" -l "$base/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $base -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c ssl=on" \
    start >&2 || { cat "$base/server.log" >&2; exit 1; }
  mkdir -p "$(dirname "$state")"
  printf 'PG_BIN=%q\nPG_DATA=%q\n' "$bin" "$data" >"$state"
  echo "export INFODEMIC_TEST_POSTGRES=postgres://postgres@127.0.0.1:$port/postgres"
  echo "export INFODEMIC_TEST_POSTGRES_CA=$base/ca.crt"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
