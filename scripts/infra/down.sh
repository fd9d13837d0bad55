#!/usr/bin/env bash
# Stops the servers scripts/infra/up.sh started and removes their runtime data (logs,
# data dirs, pid files, their part of .infra/env). Keeps the caches (~/.m2 with the jars
# and resolved classpaths, the nats-server package) so the next up.sh downloads nothing.
#
#   bash scripts/infra/down.sh                 all servers
#   bash scripts/infra/down.sh kafka,mongo     only these (jest's global teardown stops
#                                              only what its setup started)
# INFRA_STATE_DIR: the state directory up.sh was run with (default <repo>/.infra).
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

servers=$(select_servers "${1:-}") || exit 1
mapfile -t SERVERS <<<"$servers"
[[ -d $STATE_DIR ]] || exit 0
take_lock

# Kafka does a controlled shutdown (flushes, closes the metadata log) within a few
# seconds; FerretDB stops with its PostgreSQL.
stop() {
  local name=$1 pid
  if [[ $name == ferret ]]; then
    stop_ferret
  elif pid=$(running_pid "$name"); then
    stop_process "$name" "$pid" TERM
  fi
  rm -rf "${STATE_DIR:?}/$name"
}

for s in "${SERVERS[@]}"; do stop "$s"; done
write_env_file
rm -f "$STATE_DIR"/apt.log "$STATE_DIR"/maven-*.log
