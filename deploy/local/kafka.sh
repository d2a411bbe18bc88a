#!/usr/bin/env bash
# Apache Kafka in KRaft mode (broker + controller in one JVM) on 127.0.0.1, from the
# jars on Maven Central. Idempotent: start on a running broker and stop on a stopped
# one do nothing.
#
#   kafka.sh install   resolve the jars into the cache folder (mvn)
#   kafka.sh start     format storage on first start, start, wait until ready
#   kafka.sh stop      SIGTERM, wait, then SIGKILL
#   kafka.sh kill      SIGKILL at once (fault tests)
#   kafka.sh status    exit 0 when running
#   kafka.sh wipe      stop and delete data and logs
#
# Skipped when KAFKA_BOOTSTRAP_SERVERS is set: that Kafka is somebody else's.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

KAFKA_VERSION="${SERVICEDESK_KAFKA_VERSION:-4.1.1}"
KAFKA_HEAP="${SERVICEDESK_KAFKA_HEAP:-512m}"
LIBS="$CACHE_DIR/kafka-$KAFKA_VERSION"
HOME_DIR="$LOCAL_DIR/kafka"
DATA="$HOME_DIR/data"
LOGS="$HOME_DIR/logs"
PIDFILE="$HOME_DIR/kafka.pid"
CONFIG="$HOME_DIR/server.properties"

install() {
  [[ -f "$LIBS/.complete" ]] && return 0
  command -v java >/dev/null || die "java (17+) is required"
  command -v mvn >/dev/null || die "mvn is required to resolve Kafka's jars"
  log "resolving kafka_2.13 $KAFKA_VERSION and its dependencies into $LIBS"
  rm -rf "$LIBS.tmp"
  mvn -q -B -Dstyle.color=never -f "$ROOT_DIR/deploy/local/kafka/pom.xml" dependency:copy-dependencies \
    -Dkafka.version="$KAFKA_VERSION" -DincludeScope=runtime -DoutputDirectory="$LIBS.tmp"
  touch "$LIBS.tmp/.complete"
  rm -rf "$LIBS" && mv "$LIBS.tmp" "$LIBS"
}

write_config() {
  mkdir -p "$DATA" "$LOGS"
  cat >"$CONFIG" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA
num.partitions=3
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=168
# One node, no observers: a no-op record (appended and flushed) every 5 s, not every 0.5 s.
metadata.max.idle.interval.ms=5000
# Started again after a crash, the node's broker cannot register until the registration it held before has
# lapsed: 9 s by default, most of the 13.5 s a start after SIGKILL took (2026-12-07, the fault bench's log:
# DuplicateBrokerRegistrationException until "its session has timed out"). 3 s, its heartbeat each 0.5 s.
broker.session.timeout.ms=3000
broker.heartbeat.interval.ms=500
# The consumer groups' offsets are read back from this topic at every start: in segments of 1 MiB, not 100,
# the log cleaner compacts all but the last, and a start does not replay every commit since the topic began
# (87,351 records of one partition, 4.5 s, after half an hour of the fault bench). Applies to a new topic.
offsets.topic.segment.bytes=1048576
PROPS
  cat >"$HOME_DIR/log4j2.xml" <<XML
<Configuration status="warn">
  <Appenders>
    <RollingFile name="server" fileName="$LOGS/server.log" filePattern="$LOGS/server.log.%i">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
      <SizeBasedTriggeringPolicy size="50 MB"/>
      <DefaultRolloverStrategy max="3"/>
    </RollingFile>
  </Appenders>
  <Loggers>
    <Logger name="kafka" level="info"/>
    <Logger name="org.apache.kafka" level="info"/>
    <Logger name="state.change.logger" level="warn"/>
    <Root level="warn"><AppenderRef ref="server"/></Root>
  </Loggers>
</Configuration>
XML
}

# The C1 compiler only (TieredStopAtLevel=1): at this desk's request rates the C2 compiler's own
# threads were half the broker's CPU in every 10 s flow bench (1.3-2.4 s of 3-5 s), still compiling
# in the third run after a start; C1 code handles the requests for about the same CPU.
java_cmd() {
  JAVA_CMD=(java -Xms128m -Xmx"$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:TieredStopAtLevel=1
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
    -Dlog4j2.configurationFile="$HOME_DIR/log4j2.xml" -Dkafka.logs.dir="$LOGS"
    -cp "$LIBS/*" "$@")
}

java_run() { java_cmd "$@"; "${JAVA_CMD[@]}"; }

format_storage() {
  [[ -f "$DATA/meta.properties" ]] && return 0
  local cluster_id
  cluster_id="$(java_run kafka.tools.StorageTool random-uuid | tail -1)"
  log "formatting storage in $DATA (cluster $cluster_id)"
  java_run kafka.tools.StorageTool format -t "$cluster_id" -c "$CONFIG" >>"$LOGS/format.log" 2>&1 \
    || die "storage format failed: see $LOGS/format.log"
}

start() {
  someone_elses KAFKA_BOOTSTRAP_SERVERS "a local Kafka" && return 0
  if pid_alive "$PIDFILE"; then
    log "already running (pid $(cat "$PIDFILE")) on 127.0.0.1:$KAFKA_PORT"
    return 0
  fi
  install
  write_config
  format_storage
  : >"$LOGS/server.log"
  log "starting Kafka $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT (heap $KAFKA_HEAP, logs in $LOGS)"
  java_cmd kafka.Kafka "$CONFIG"
  setsid nohup "${JAVA_CMD[@]}" >"$LOGS/stdout.log" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  local deadline=$((SECONDS + ${SERVICEDESK_KAFKA_START_TIMEOUT:-120}))
  until grep -q "Kafka Server started" "$LOGS/server.log" 2>/dev/null && wait_for_port "$KAFKA_PORT" 1; do
    if ! pid_alive "$PIDFILE"; then
      tail -n 30 "$LOGS/stdout.log" "$LOGS/server.log" >&2 || true
      die "Kafka exited during start"
    fi
    if ((SECONDS > deadline)); then
      tail -n 30 "$LOGS/server.log" >&2 || true
      die "Kafka not ready in time"
    fi
    sleep 0.3
  done
  log "ready: KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$KAFKA_PORT"
}

stop() {
  pid_alive "$PIDFILE" || { rm -f "$PIDFILE"; return 0; }
  local pid; pid="$(cat "$PIDFILE")"
  log "stopping Kafka (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PIDFILE"
}

hard_kill() {
  pid_alive "$PIDFILE" || return 0
  local pid; pid="$(cat "$PIDFILE")"
  kill -KILL "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  rm -f "$PIDFILE"
}

running() { pid_alive "$PIDFILE"; }

wipe() { stop; rm -rf "$DATA" "$LOGS"; }

infra_command "$@"
