#!/usr/bin/env bash
# Stops the servers scripts/infra/up.sh started and removes their runtime data (logs,
# data dirs, pid files, their part of .infra/env). Keeps the caches (~/.m2 with the jars
# and resolved classpaths, the nats-server package) so the next up.sh downloads nothing.
#
#   bash scripts/infra/down.sh                 all servers
#   bash scripts/infra/down.sh kafka,mongo     only these (jest's global teardown stops
#                                              only what its setup started)
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

servers=$(select_servers "${1:-}") || exit 1
mapfile -t SERVERS <<<"$servers"
[[ -d $STATE_DIR ]] || exit 0
take_lock

# Kafka does a controlled shutdown (flushes, closes the metadata log) within a few
# seconds; give up waiting after 30 s and kill it, it is test data anyway.
stop() {
  local name=$1 pid i
  if pid=$(running_pid "$name"); then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 60; i++)); do
      alive "$pid" || break
      sleep 0.5
    done
    if alive "$pid"; then
      say "$name (pid $pid) ignored SIGTERM for 30s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      while alive "$pid"; do sleep 0.2; done
    fi
    say "stopped $name (pid $pid)"
  fi
  rm -rf "${STATE_DIR:?}/$name"
}

for s in "${SERVERS[@]}"; do stop "$s"; done
write_env_file
rm -f "$STATE_DIR"/apt.log "$STATE_DIR"/maven-*.log
