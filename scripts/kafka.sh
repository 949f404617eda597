#!/usr/bin/env bash
# Run a real single-node Apache Kafka broker (KRaft, no ZooKeeper, no Docker) for tests
# and local runs.
#
#   scripts/kafka.sh start    # fetch jars once (Maven Central), format fresh storage, start, wait until ready
#   scripts/kafka.sh stop     # TERM, then KILL after KAFKA_STOP_TIMEOUT seconds; no-op if not running
#   scripts/kafka.sh status   # "running ..." + exit 0, or "not running" + exit 1
#
# Environment: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), KAFKA_START_TIMEOUT (90 s),
# KAFKA_STOP_TIMEOUT (30 s), JAVA_HOME (optional). Clients connect to 127.0.0.1:$KAFKA_PORT.
# Everything it writes lives in <project>/.cache/kafka (git-ignored). See scripts/kafka/README.md.
set -euo pipefail

# Resolve paths from this file's location so the script works from any cwd.
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT_DIR="$(cd "$SCRIPT_DIR/.." && pwd)"
CONF_DIR="$SCRIPT_DIR/kafka"
CACHE_DIR="$ROOT_DIR/.cache/kafka"
LIB_DIR="$CACHE_DIR/lib"
LIB_MARKER="$LIB_DIR/.complete"
DATA_DIR="$CACHE_DIR/data"
PROPS_FILE="$CACHE_DIR/server.properties"
PID_FILE="$CACHE_DIR/kafka.pid"
PORT_FILE="$CACHE_DIR/kafka.port"  # client port of the running broker, for status/stop under other env
LOG_FILE="$CACHE_DIR/kafka.log"

KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
HOST=127.0.0.1

if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
  JAVA="$JAVA_HOME/bin/java"
else
  JAVA=java
fi

log() { echo "kafka.sh: $*" >&2; }
die() { log "$*"; exit 1; }

# True if pid $1 exists and is not a zombie (a broker this shell started stays a zombie
# child after it dies, and kill -0 still succeeds on zombies).
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  local stat
  stat="$(ps -p "$1" -o stat= 2>/dev/null || true)"
  [[ -n "$stat" && "$stat" != Z* ]]
}

# True if something accepts TCP connections on $HOST:$1 (bash's /dev/tcp; no nc needed).
port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null
}

# Prints the broker's pid if the pid file names a live kafka.Kafka process (guards against
# a stale pid file whose pid was reused by something else).
running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  alive "$pid" || return 1
  ps -p "$pid" -o args= 2>/dev/null | grep -q 'kafka\.Kafka' || return 1
  echo "$pid"
}

# The client port the running broker was started with (it may differ from this shell's KAFKA_PORT).
running_port() {
  cat "$PORT_FILE" 2>/dev/null || echo "$KAFKA_PORT"
}

healthy() {
  running_pid >/dev/null && port_open "$(running_port)"
}

# Checksum of the inputs that decide the classpath: a changed pom means re-fetch.
pom_sum() {
  sha256sum "$CONF_DIR/pom.xml" | cut -d' ' -f1
}

# Download the broker jars once; later starts reuse them (the marker is written only after
# a complete copy, so an interrupted download is redone rather than half-used).
ensure_jars() {
  if [[ -f "$LIB_MARKER" && "$(cat "$LIB_MARKER")" == "$(pom_sum)" ]]; then
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found (needed once to fetch Kafka from Maven Central)"
  log "fetching Kafka jars with Maven into $LIB_DIR (first run only)"
  rm -rf "$LIB_DIR"
  mkdir -p "$LIB_DIR"
  # Maven's output goes to a file and is shown only on failure (even -q leaks ANSI
  # reset codes on this Maven 3.8.7).
  local mvn_log="$CACHE_DIR/maven.log"
  if ! mvn -B -ntp -Dstyle.color=never -f "$CONF_DIR/pom.xml" -Dkafka.lib="$LIB_DIR" \
      dependency:copy-dependencies </dev/null >"$mvn_log" 2>&1; then
    tail -n 40 "$mvn_log" >&2
    rm -rf "$LIB_DIR"
    die "maven could not fetch the Kafka jars; full output: $mvn_log"
  fi
  pom_sum >"$LIB_MARKER"
}

# Fill the properties template; fresh storage every start keeps tests independent.
render_config() {
  sed -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" \
      -e "s|@KAFKA_CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
      -e "s|@DATA_DIR@|$DATA_DIR|g" \
      "$CONF_DIR/server.properties.template" >"$PROPS_FILE"
}

java_run() {
  "$JAVA" -cp "$LIB_DIR/*" -Dlog4j.configuration="file:$CONF_DIR/log4j.properties" "$@"
}

format_storage() {
  rm -rf "$DATA_DIR"
  local cluster_id
  cluster_id="$(java_run kafka.tools.StorageTool random-uuid 2>>"$LOG_FILE" | tail -n1)"
  [[ -n "$cluster_id" ]] || die "StorageTool random-uuid printed nothing; see $LOG_FILE"
  # Static controller.quorum.voters: format needs no --standalone.
  java_run kafka.tools.StorageTool format -t "$cluster_id" -c "$PROPS_FILE" >>"$LOG_FILE" 2>&1 \
    || { tail -n 30 "$LOG_FILE" >&2; die "formatting storage failed"; }
}

cmd_start() {
  if healthy && [[ "$(running_port)" == "$KAFKA_PORT" ]]; then
    log "already running (pid $(running_pid)) on $HOST:$KAFKA_PORT"
    return 0
  fi
  if running_pid >/dev/null; then
    # Alive but not answering, or on other ports: do not guess, restart it cleanly.
    log "broker pid $(running_pid) is not serving $HOST:$KAFKA_PORT; restarting it"
    cmd_stop
  fi
  rm -f "$PID_FILE" "$PORT_FILE"
  command -v "$JAVA" >/dev/null || die "java not found (Kafka 3.9 needs Java 11+, 17 recommended)"
  for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    if port_open "$port"; then die "port $HOST:$port is already in use by another process"; fi
  done

  local t0=$SECONDS
  mkdir -p "$CACHE_DIR"
  # The whole cache folder ignores itself, so nothing here can be committed by accident.
  [[ -f "$ROOT_DIR/.cache/.gitignore" ]] || echo '*' >"$ROOT_DIR/.cache/.gitignore"
  ensure_jars
  : >"$LOG_FILE"
  render_config
  format_storage

  # nohup + redirects: the broker outlives this script and holds no terminal or pipe open.
  nohup "$JAVA" -Xms256m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$CONF_DIR/log4j.properties" \
    -cp "$LIB_DIR/*" kafka.Kafka "$PROPS_FILE" </dev/null >>"$LOG_FILE" 2>&1 &
  local pid=$!
  echo "$pid" >"$PID_FILE"
  echo "$KAFKA_PORT" >"$PORT_FILE"

  # Ready = the server logged its start line AND the client port accepts connections.
  local deadline=$((SECONDS + KAFKA_START_TIMEOUT))
  until grep -q 'Kafka Server started' "$LOG_FILE" && port_open "$KAFKA_PORT"; do
    if ! alive "$pid"; then
      rm -f "$PID_FILE" "$PORT_FILE"
      tail -n 40 "$LOG_FILE" >&2
      die "broker exited during startup; full log: $LOG_FILE"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 40 "$LOG_FILE" >&2
      cmd_stop || true
      die "broker not ready after ${KAFKA_START_TIMEOUT}s; full log: $LOG_FILE"
    fi
    sleep 0.5
  done
  log "ready on $HOST:$KAFKA_PORT (pid $pid, $((SECONDS - t0))s)"
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE" "$PORT_FILE"
    log "not running"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  # A clean KRaft shutdown takes a few seconds; give it time, then force.
  local deadline=$((SECONDS + KAFKA_STOP_TIMEOUT))
  while alive "$pid"; do
    if ((SECONDS >= deadline)); then
      log "pid $pid ignored TERM for ${KAFKA_STOP_TIMEOUT}s; sending KILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  # Wait for the process (and so its ports) to be gone before returning.
  while alive "$pid"; do sleep 0.1; done
  rm -f "$PID_FILE" "$PORT_FILE"
  log "stopped (pid $pid)"
}

cmd_status() {
  local pid port
  if pid="$(running_pid)"; then
    port="$(running_port)"
    if port_open "$port"; then
      echo "running (pid $pid, $HOST:$port)"
      return 0
    fi
    echo "not running: pid $pid is alive but $HOST:$port is not accepting connections"
    return 1
  fi
  echo "not running"
  return 1
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
