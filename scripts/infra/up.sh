#!/usr/bin/env bash
# Starts the real servers the integration tests talk to, without Docker:
#   nats   nats-server (Debian package) with JetStream
#   kafka  Apache Kafka, single KRaft node, jars from Maven Central
#   mongo  mongo-java-server (MongoDB wire protocol, in memory), jars from Maven Central
#   ferret FerretDB 1.24 over PostgreSQL: a second MongoDB-protocol server that validates
#          commands like mongod (the Java one accepts anything); built from its Go module
#          source once per machine (scripts/infra/ferretdb/build.sh), PostgreSQL from Debian
#   mailpit Mailpit: an SMTP server with an HTTP API to read what arrived, chaos (SMTP error
#          replies on demand) enabled; `go install`ed once per machine (scripts/infra/mailpit/install.sh)
# and writes their connection settings to .infra/env (see test/support/infra.ts).
#
# Idempotent: servers that are already running and answering are reused. Runs without
# any interaction (CI). Downloads only on the first run on a machine: apt and ~/.m2 keep
# what was fetched (~/.m2/ticketing-infra also the resolved classpaths, ~/.cache/ticketing-infra
# the FerretDB and Mailpit binaries; FerretDB's first build takes a few minutes).
#
#   bash scripts/infra/up.sh            start (or reuse) everything, print the settings
#   bash scripts/infra/up.sh --check    exit 0 only if everything is up and answering
#
# Environment (all optional):
#   INFRA_ONLY=nats,mongo       a subset of the servers (nats, kafka, mongo, ferret, mailpit)
#   INFRA_NATS_PORT=4222  INFRA_NATS_MONITOR_PORT=8222
#   INFRA_KAFKA_PORT=9092  INFRA_KAFKA_CONTROLLER_PORT=9093  INFRA_KAFKA_SASL_PORT=9094
#   INFRA_MONGO_PORT=27018  INFRA_MONGO_DB=ticketing
#   INFRA_FERRET_PORT=27019  INFRA_PG_PORT=25432 (FerretDB's PostgreSQL)
#   INFRA_MAILPIT_SMTP_PORT=1025  INFRA_MAILPIT_HTTP_PORT=8025
#   INFRA_STATE_DIR=<dir>       runtime state instead of <repo>/.infra (a private set)
#   INFRA_TIMEOUT=120           seconds to wait for each server to answer
#   INFRA_STARTED_FILE=<path>   append the names of the servers this run started
#                               (jest's global setup uses it to stop only those)
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

NATS_PORT=${INFRA_NATS_PORT:-4222}
NATS_MONITOR_PORT=${INFRA_NATS_MONITOR_PORT:-8222}
KAFKA_PORT=${INFRA_KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${INFRA_KAFKA_CONTROLLER_PORT:-9093}
KAFKA_SASL_PORT=${INFRA_KAFKA_SASL_PORT:-9094}
MONGO_PORT=${INFRA_MONGO_PORT:-27018}
MONGO_DB=${INFRA_MONGO_DB:-ticketing}
FERRET_PORT=${INFRA_FERRET_PORT:-27019}
# Below the ephemeral range (32768+): a port there can be taken by any outgoing connection.
PG_PORT=${INFRA_PG_PORT:-25432}
MAILPIT_SMTP_PORT=${INFRA_MAILPIT_SMTP_PORT:-1025}
MAILPIT_HTTP_PORT=${INFRA_MAILPIT_HTTP_PORT:-8025}
TIMEOUT=${INFRA_TIMEOUT:-120}
KAFKA_USER=partner

servers=$(select_servers "${INFRA_ONLY:-}") || exit 1
mapfile -t SERVERS <<<"$servers"
started_at=$SECONDS

# The probes use the project's own client libraries (kafkajs, mongoose, nats) and the
# project's Node (node_modules/.bin/node is Node 24; the system one may be older).
NODE=$REPO_ROOT/node_modules/.bin/node
[[ -x $NODE ]] || NODE=$(command -v node || true)
have_probe_libs() {
  [[ -n $NODE && -d $REPO_ROOT/node_modules/kafkajs && -d $REPO_ROOT/node_modules/mongoose &&
    -d $REPO_ROOT/node_modules/nats ]]
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Does the server answer a real request? Uses the settings it was started with (its env
# fragment), not this run's INFRA_* values, so a reused server is probed where it is.
probe() {
  local name=$1
  [[ -f $STATE_DIR/$name/env ]] || return 1
  (
    set -a
    . "$STATE_DIR/$name/env"
    set +a
    # kafkajs trips Node 24's TimeoutNegativeWarning on every disconnect; harmless.
    export NODE_NO_WARNINGS=1
    if have_probe_libs; then
      case $name in
        nats) "$NODE" "$INFRA_DIR/probe.js" nats "$NATS_URL" ;;
        kafka) "$NODE" "$INFRA_DIR/probe.js" kafka "$KAFKA_BROKERS" "$KAFKA_SASL_BROKERS" \
          "$KAFKA_SASL_MECHANISM" "$KAFKA_SASL_USERNAME" "$KAFKA_SASL_PASSWORD" ;;
        mongo) "$NODE" "$INFRA_DIR/probe.js" mongo "$MONGO_URI" ;;
        ferret) "$NODE" "$INFRA_DIR/probe.js" mongo "$FERRET_URI" ;;
        mailpit) "$NODE" "$INFRA_DIR/probe.js" mailpit "$MAILPIT_SMTP_URL" "$MAILPIT_API_URL" ;;
      esac
    else
      # Without node_modules (npm ci not run yet) the best we can do is a port check,
      # plus Kafka's own "started" line since its ports open before it can serve.
      case $name in
        nats) port_open "${NATS_URL##*:}" ;;
        kafka) port_open "${KAFKA_BROKERS##*:}" &&
          grep -q 'Kafka Server started' "$STATE_DIR/kafka/server.log" ;;
        mongo) port_open "$(sed -E 's#^mongodb://[^:]+:([0-9]+).*#\1#' <<<"$MONGO_URI")" ;;
        ferret) port_open "$(sed -E 's#^mongodb://[^:]+:([0-9]+).*#\1#' <<<"$FERRET_URI")" ;;
        mailpit) port_open "${MAILPIT_SMTP_URL##*:}" && port_open "${MAILPIT_API_URL##*:}" ;;
      esac
    fi
  ) 2>>"$STATE_DIR/$name/probe.log"
}

wait_ready() {
  local name=$1 log=$2 deadline=$((SECONDS + TIMEOUT))
  while ! probe "$name"; do
    if ! running_pid "$name" >/dev/null; then
      say "$name exited during startup; last lines of $log:"
      tail -n 40 "$log" >&2 || true
      die "$name did not start (\`npm run infra:down\` clears what is left of it)"
    fi
    if ((SECONDS >= deadline)); then
      say "$name does not answer after ${TIMEOUT}s; last lines of $log:"
      tail -n 40 "$log" >&2 || true
      say "last probe errors: $(tail -n 3 "$STATE_DIR/$name/probe.log" 2>/dev/null | tr '\n' ' ')"
      die "$name did not come up in time (INFRA_TIMEOUT=$TIMEOUT); \`npm run infra:down\` resets it"
    fi
    sleep 0.5
  done
}

require_free_ports() {
  local name=$1 port
  shift
  for port in "$@"; do
    if port_open "$port"; then
      say "port $port is taken by a process this script did not start:"
      ss -ltnp "sport = :$port" 2>/dev/null | tail -n +2 >&2 || true
      die "cannot start $name on 127.0.0.1:$port; stop that process or pick other ports (INFRA_*_PORT variables)"
    fi
  done
}

# Starts a server in its own session with every descriptor pointed at its log: it must
# outlive this script and must not hold the caller's pipes open (jest and CI wait for
# EOF on them) nor our lock (fd 9).
spawn() {
  local name=$1 log=$2
  shift 2
  setsid "$@" </dev/null >>"$log" 2>&1 9>&- &
  echo $! >"$STATE_DIR/$name/pid"
}

java_major() { java -version 2>&1 | sed -n 's/.* version "\([0-9]*\).*/\1/p' | head -n 1; }

need_java() {
  command -v java >/dev/null || die "java not found: Kafka and the Mongo test server need Java 17+"
  local v
  v=$(java_major)
  ((${v:-0} >= 17)) || die "Java 17 or newer needed (Kafka 4.x), found $(java -version 2>&1 | head -n 1)"
}

# Prints the path of a file holding the runtime classpath of one of our poms. Maven is
# skipped entirely when a classpath for this exact pom content was resolved before and
# every jar in it is still in ~/.m2; otherwise it tries offline first (no network round
# trip when ~/.m2 has everything), then online.
resolve_classpath() {
  local name=$1 pom=$INFRA_DIR/$1/pom.xml out log jar jars ok=1
  out=$CLASSPATH_CACHE_DIR/$name-$(sha256sum "$pom" | cut -c1-16).classpath
  log=$STATE_DIR/maven-$name.log
  if [[ -s $out ]]; then
    IFS=: read -r -a jars <"$out" || true # the file has no final newline
    for jar in "${jars[@]}"; do [[ -f $jar ]] || { ok=0; break; }; done
    ((ok)) && { echo "$out"; return 0; }
  fi
  command -v mvn >/dev/null || die "mvn not found: needed once to fetch the jars of $pom"
  mkdir -p "$CLASSPATH_CACHE_DIR"
  local args=(-B -q -f "$pom" dependency:build-classpath -Dmdep.outputFile="$out.tmp.$$"
    -Dmdep.includeScope=runtime)
  if ! mvn -o "${args[@]}" >"$log" 2>&1; then
    say "fetching $name jars from Maven Central (first run on this machine)"
    mvn --no-transfer-progress "${args[@]}" >>"$log" 2>&1 || {
      tail -n 30 "$log" >&2
      die "Maven could not resolve $pom (log: $log)"
    }
  fi
  mv -f "$out.tmp.$$" "$out"
  echo "$out"
}

# ---------------------------------------------------------------------------- nats

# Installs a Debian package (first run on a machine), or dies saying which and why.
apt_install() {
  local pkg=$1 purpose=$2 sudo=() log=$STATE_DIR/apt.log
  ((EUID == 0)) || sudo=(sudo -n)
  say "installing $pkg with apt-get ($purpose; first run on this machine)"
  export DEBIAN_FRONTEND=noninteractive
  # Try without refreshing the package lists first: update is the slow part.
  if ! "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$pkg" >"$log" 2>&1; then
    { "${sudo[@]}" apt-get update -qq &&
      "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$pkg"; } >>"$log" 2>&1 || {
      tail -n 20 "$log" >&2
      die "could not install $pkg, $purpose (log: $log)"
    }
  fi
}

install_nats() {
  command -v nats-server >/dev/null || apt_install nats-server "the NATS server"
}

start_nats() {
  local dir=$STATE_DIR/nats
  install_nats
  require_free_ports nats "$NATS_PORT" "$NATS_MONITOR_PORT"
  mkdir -p "$dir/data"
  cat >"$dir/env" <<EOF
NATS_URL=nats://127.0.0.1:$NATS_PORT
NATS_MONITOR_URL=http://127.0.0.1:$NATS_MONITOR_PORT
EOF
  spawn nats "$dir/server.log" nats-server -n ticketing-test -a 127.0.0.1 -p "$NATS_PORT" \
    -m "$NATS_MONITOR_PORT" -js -sd "$dir/data"
}

# ---------------------------------------------------------------------------- mongo

start_mongo() {
  local dir=$STATE_DIR/mongo cp_file
  need_java
  cp_file=$(resolve_classpath mongo)
  require_free_ports mongo "$MONGO_PORT"
  mkdir -p "$dir"
  cat >"$dir/env" <<EOF
MONGO_URI=mongodb://127.0.0.1:$MONGO_PORT/$MONGO_DB
EOF
  # Everything is in memory; the heap is the database. Serial GC: small heap, 2 cores.
  spawn mongo "$dir/server.log" java -Xms64m -Xmx512m -XX:+UseSerialGC \
    -Dorg.slf4j.simpleLogger.defaultLogLevel=info -Dorg.slf4j.simpleLogger.showDateTime=true \
    -cp "$(cat "$cp_file")" "$INFRA_DIR/mongo/MongoLauncher.java" 127.0.0.1 "$MONGO_PORT"
}

# ---------------------------------------------------------------------------- ferret

# Debian's PostgreSQL keeps its programs (initdb, postgres) out of PATH, one folder per
# major version; prints the newest such folder, or the one initdb is in.
pg_bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [[ -z $dir ]] && command -v initdb >/dev/null && dir=$(dirname "$(readlink -f "$(command -v initdb)")")
  [[ -n $dir && -x $dir/initdb && -x $dir/postgres ]] && echo "$dir"
}

install_postgresql() {
  pg_bindir >/dev/null && return 0
  apt_install postgresql "FerretDB's backend"
  pg_bindir >/dev/null || die "postgresql is installed but initdb/postgres are not in /usr/lib/postgresql/*/bin"
}

# PostgreSQL refuses to run as root: as root, run its programs as the postgres user.
AS_PG=()
pg_user() {
  ((EUID == 0)) || return 0
  id postgres >/dev/null 2>&1 ||
    die "running as root, and there is no postgres user to run PostgreSQL as (Debian's postgresql package creates it)"
  AS_PG=(setpriv --reuid=postgres --regid=postgres --init-groups --)
}

# What FerretDB needs, checked before any server starts, so that a missing Go toolchain or
# PostgreSQL is a clear error rather than a half-started set: its binary (built on the
# first run, a few minutes), PostgreSQL's programs and the user to run them as.
FERRET_BIN='' PG_BIN=''
prepare_ferret() {
  FERRET_BIN=$(bash "$INFRA_DIR/ferretdb/build.sh") || exit 1
  install_postgresql
  PG_BIN=$(pg_bindir)
  pg_user
}

start_ferret() {
  local dir=$STATE_DIR/ferret pid deadline
  require_free_ports ferret "$FERRET_PORT" "$PG_PORT"
  mkdir -p "$dir/pg" "$dir/state"
  ((${#AS_PG[@]} == 0)) || chown postgres: "$dir/pg"
  chmod 700 "$dir/pg"
  "${AS_PG[@]}" test -w "$dir/pg" ||
    die "the postgres user cannot write $dir/pg (every parent folder must be searchable by it); set INFRA_STATE_DIR to a folder it can reach"

  # A throwaway cluster: trust on 127.0.0.1 only, no durability (test data).
  "${AS_PG[@]}" "$PG_BIN/initdb" -D "$dir/pg" -U postgres --auth=trust --no-sync --encoding=UTF8 --locale=C \
    >"$dir/initdb.log" 2>&1 9>&- || {
    tail -n 20 "$dir/initdb.log" >&2
    die "initdb of FerretDB's PostgreSQL failed (log: $dir/initdb.log)"
  }
  # The postmaster writes its own pid into pg/postmaster.pid (see ferret_pg_pid).
  setsid "${AS_PG[@]}" "$PG_BIN/postgres" -D "$dir/pg" -p "$PG_PORT" -c listen_addresses=127.0.0.1 \
    -c unix_socket_directories= -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
    </dev/null >>"$dir/postgres.log" 2>&1 9>&- &
  pid=$!
  deadline=$((SECONDS + TIMEOUT))
  until port_open "$PG_PORT"; do
    alive "$pid" || {
      tail -n 20 "$dir/postgres.log" >&2
      die "FerretDB's PostgreSQL exited during startup (log: $dir/postgres.log)"
    }
    ((SECONDS < deadline)) || die "FerretDB's PostgreSQL does not listen on $PG_PORT after ${TIMEOUT}s (log: $dir/postgres.log)"
    sleep 0.2
  done

  echo "FERRET_URI=mongodb://127.0.0.1:$FERRET_PORT/$MONGO_DB" >"$dir/env"
  # --debug-addr=-: no metrics/pprof listener (its default port would collide between runs).
  spawn ferret "$dir/server.log" "$FERRET_BIN" --handler=postgresql \
    --postgresql-url="postgres://postgres@127.0.0.1:$PG_PORT/postgres" \
    --listen-addr="127.0.0.1:$FERRET_PORT" --state-dir="$dir/state" --debug-addr=- \
    --telemetry=disable --log-level=warn
}

# ---------------------------------------------------------------------------- mailpit

MAILPIT_BIN=''
prepare_mailpit() {
  MAILPIT_BIN=$(bash "$INFRA_DIR/mailpit/install.sh") || exit 1
}

start_mailpit() {
  local dir=$STATE_DIR/mailpit port
  for port in "$MAILPIT_SMTP_PORT" "$MAILPIT_HTTP_PORT"; do
    ((port < 32768)) || die "Mailpit port $port is in the ephemeral range (32768+), where any outgoing connection may take it; pick a lower one"
  done
  require_free_ports mailpit "$MAILPIT_SMTP_PORT" "$MAILPIT_HTTP_PORT"
  mkdir -p "$dir"
  # MAILPIT_BIN: tests that need a Mailpit of their own (chaos is server-wide, or the SMTP
  # server must go down) start this binary on ports of their own (test/support/mailpit.ts).
  cat >"$dir/env" <<EOF
MAILPIT_SMTP_URL=smtp://127.0.0.1:$MAILPIT_SMTP_PORT
MAILPIT_API_URL=http://127.0.0.1:$MAILPIT_HTTP_PORT
MAILPIT_BIN=$MAILPIT_BIN
EOF
  # Test mail only: the database lives in the state dir and goes with it. Tests share the
  # server and find their messages by a recipient of their own; --max keeps a flash sale's
  # receipts from pruning another test's messages (the default keeps only 500).
  # Chaos (SMTP error replies on demand) stays idle until a test sets triggers through the API.
  spawn mailpit "$dir/server.log" "$MAILPIT_BIN" --smtp "127.0.0.1:$MAILPIT_SMTP_PORT" \
    --listen "127.0.0.1:$MAILPIT_HTTP_PORT" --database "$dir/mailpit.db" --max 20000 \
    --smtp-auth-accept-any --smtp-auth-allow-insecure --smtp-disable-rdns --enable-chaos \
    --disable-version-check --quiet
}

# ---------------------------------------------------------------------------- kafka

# Kafka cluster ids are 16 random bytes in URL-safe base64 without padding; making one
# here saves a JVM start (StorageTool random-uuid). Kafka never hands out ids that
# start with '-' (they read like a command-line option), so neither do we.
kafka_cluster_id() {
  local id
  while :; do
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    [[ $id != -* ]] && { echo "$id"; return; }
  done
}

start_kafka() {
  local dir=$STATE_DIR/kafka cp_file cp password
  need_java
  cp_file=$(resolve_classpath kafka)
  cp=$(cat "$cp_file")
  require_free_ports kafka "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$KAFKA_SASL_PORT"
  mkdir -p "$dir/data"

  # A fresh password per format: it only ever lives in .infra (gitignored).
  password=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
  sed -e "s#@PLAINTEXT_PORT@#$KAFKA_PORT#g" -e "s#@CONTROLLER_PORT@#$KAFKA_CONTROLLER_PORT#g" \
    -e "s#@SASL_PORT@#$KAFKA_SASL_PORT#g" -e "s#@LOG_DIR@#$dir/data#g" \
    -e "s#@SASL_USER@#$KAFKA_USER#g" -e "s#@SASL_PASSWORD@#$password#g" \
    "$INFRA_DIR/kafka/server.properties.tmpl" >"$dir/server.properties"
  cat >"$dir/env" <<EOF
KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT
KAFKA_SASL_BROKERS=127.0.0.1:$KAFKA_SASL_PORT
KAFKA_SASL_MECHANISM=scram-sha-512
KAFKA_SASL_USERNAME=$KAFKA_USER
KAFKA_SASL_PASSWORD=$password
KAFKA_HOME_CP=$cp_file
KAFKA_LOG4J2_CONFIG=$INFRA_DIR/kafka/log4j2-tools.xml
EOF

  # Short-lived tool JVM: C1 only and serial GC start noticeably faster on 2 cores.
  java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx256m \
    -Dlog4j2.configurationFile="$INFRA_DIR/kafka/log4j2-tools.xml" -cp "$cp" \
    kafka.tools.StorageTool format -t "$(kafka_cluster_id)" -c "$dir/server.properties" \
    --add-scram "SCRAM-SHA-512=[name=$KAFKA_USER,password=$password]" \
    --add-scram "SCRAM-SHA-256=[name=$KAFKA_USER,password=$password]" \
    >"$dir/format.log" 2>&1 || {
    tail -n 30 "$dir/format.log" >&2
    die "kafka storage format failed (log: $dir/format.log)"
  }

  spawn kafka "$dir/server.log" java -Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$INFRA_DIR/kafka/log4j2.xml" \
    -cp "$cp" kafka.Kafka "$dir/server.properties"
}

# ---------------------------------------------------------------------------- main

if [[ ${1:-} == --check ]]; then
  for s in "${SERVERS[@]}"; do
    running_pid "$s" >/dev/null && probe "$s" || exit 1
  done
  exit 0
fi
[[ $# -eq 0 ]] || die "usage: up.sh [--check]"

take_lock

# Not a server of ours to keep running: the metrics test starts its own Prometheus (its own
# config, storage and port) and stops it. The package's own service never runs here.
command -v prometheus >/dev/null || apt_install prometheus "the Prometheus server the metrics test scrapes with"

reused=() started=()
for s in "${SERVERS[@]}"; do
  if running_pid "$s" >/dev/null; then reused+=("$s"); fi
done
if [[ " ${SERVERS[*]} " == *" ferret "* && " ${reused[*]} " != *" ferret "* ]]; then prepare_ferret; fi
if [[ " ${SERVERS[*]} " == *" mailpit "* && " ${reused[*]} " != *" mailpit "* ]]; then prepare_mailpit; fi

# Start order matters for wall time: the Mongo JVM compiles its launcher while Kafka's
# storage is being formatted; NATS is up in milliseconds; FerretDB's PostgreSQL starts
# while the JVMs warm up.
for s in nats mongo kafka ferret mailpit; do
  [[ " ${SERVERS[*]} " == *" $s "* && " ${reused[*]} " != *" $s "* ]] || continue
  # A dead server's leftovers (pid file, data) must not be mistaken for a live one; a
  # PostgreSQL left behind by a FerretDB that died would hold its port and data.
  [[ $s != ferret ]] || stop_ferret
  rm -rf "${STATE_DIR:?}/$s"
  say "starting $s"
  "start_$s"
  started+=("$s")
done

for s in "${SERVERS[@]}"; do
  wait_ready "$s" "$STATE_DIR/$s/server.log"
done

write_env_file
if [[ -n ${INFRA_STARTED_FILE:-} && ${#started[@]} -gt 0 ]]; then
  printf '%s\n' "${started[@]}" >>"$INFRA_STARTED_FILE"
fi

((${#reused[@]} == 0)) || say "reused running: ${reused[*]}"
((${#started[@]} == 0)) || say "started: ${started[*]}"
say "ready in $((SECONDS - started_at))s; settings in $ENV_FILE:"
grep -v '^#' "$ENV_FILE"
