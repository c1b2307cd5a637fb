# Shared, idempotent setup steps for scripts/setup and scripts/test. Sourced, not run.
# Every step checks what exists first, so a second run reuses it and is fast.

PROJECT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB_DIR="$PROJECT_DIR/.lab"
LAB_ROOT="${ACD_LAB_ROOT:-$LAB_DIR/root}"
VENV="$PROJECT_DIR/.venv"
DEBIAN_MIRROR="${ACD_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SYSTEM_PACKAGES=(debootstrap sip-tester baresip espeak-ng sox mosquitto postgresql python3-venv procps chromium fonts-wqy-microhei)
# Asterisk 22 is not in Debian 12; Debian unstable has it. A minbase root keeps it apart
# from the host's packages and is reused on every later run.
ROOT_PACKAGES=asterisk,asterisk-modules,asterisk-core-sounds-en-gsm,asterisk-moh-opsound-gsm

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "run as root: installing packages and chroot need it" >&2
    exit 1
  fi
}

install_system_packages() {
  local missing=()
  for pkg in "${SYSTEM_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    say "system packages present"
    return
  fi
  say "installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
  # The broker is started by the project when it needs one, not at boot.
  if command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now mosquitto >/dev/null 2>&1 || true
  fi
  if [[ " ${missing[*]} " == *" postgresql "* ]]; then
    disable_system_postgresql
  fi
}

# Debian's package creates a "main" cluster and starts it at boot. The tests start a throwaway
# cluster of their own (tests/pg_server.py), so the system one is stopped and set to manual.
disable_system_postgresql() {
  if command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now postgresql >/dev/null 2>&1 || true
  fi
  local conf version cluster
  for conf in /etc/postgresql/*/*/start.conf; do
    [ -f "$conf" ] || continue
    sed -i 's/^auto$/manual/' "$conf"
    version=$(basename "$(dirname "$(dirname "$conf")")")
    cluster=$(basename "$(dirname "$conf")")
    pg_ctlcluster "$version" "$cluster" stop >/dev/null 2>&1 || true
  done
}

ensure_venv() {
  local stamp="$VENV/.acd-installed" want
  want=$(sha256sum "$PROJECT_DIR/pyproject.toml" | cut -d' ' -f1)
  if [ -x "$VENV/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    say "virtual environment up to date"
    return
  fi
  say "creating the virtual environment"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -e "$PROJECT_DIR[test]"
  echo "$want" > "$stamp"
}

ensure_asterisk_root() {
  if [ -x "$LAB_ROOT/usr/sbin/asterisk" ]; then
    say "Asterisk root present at $LAB_ROOT"
    return
  fi
  say "building the Asterisk 22 root (Debian unstable minbase) at $LAB_ROOT"
  local partial="$LAB_ROOT.partial"
  rm -rf "$partial"
  mkdir -p "$(dirname "$LAB_ROOT")"
  debootstrap --variant=minbase --include="$ROOT_PACKAGES" sid "$partial" "$DEBIAN_MIRROR"
  mv "$partial" "$LAB_ROOT"
  chroot "$LAB_ROOT" asterisk -V
}

engine_pid() {
  local pidfile="$LAB_DIR/run/engine.pid"
  [ -f "$pidfile" ] || return 1
  local pid
  pid=$(cat "$pidfile")
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

start_engine() {
  mkdir -p "$LAB_DIR/run" "$LAB_DIR/log"
  if engine_pid >/dev/null; then
    say "engine already running (pid $(engine_pid))"
    return
  fi
  say "starting the engine (log: $LAB_DIR/log/engine.log)"
  cd "$PROJECT_DIR"
  # Its own session, no inherited terminal or pipes: it outlives this script.
  setsid nohup "$VENV/bin/acd" run </dev/null >>"$LAB_DIR/log/engine.log" 2>&1 &
  echo $! >"$LAB_DIR/run/engine.pid"
  for _ in $(seq 1 50); do
    if (cd "$PROJECT_DIR" && "$VENV/bin/acd" status >/dev/null 2>&1); then
      return
    fi
    sleep 0.2
  done
  echo "the engine did not come up; see $LAB_DIR/log/engine.log" >&2
  exit 1
}

stop_engine() {
  local pid
  if pid=$(engine_pid); then
    say "stopping the engine (pid $pid)"
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$LAB_DIR/run/engine.pid"
}
