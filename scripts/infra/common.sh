# Shared by up.sh and down.sh (sourced, not run).
#
# Layout of the runtime state, all under <repo>/.infra (gitignored; INFRA_STATE_DIR moves it,
# e.g. to run a second, private set of servers beside the usual ones):
#   <server>/         one per server (nats, kafka, mongo, ferret, mailpit): pid, log, data, env fragment
#                     (ferret/ also holds its PostgreSQL: pg/ data, postgres.log)
#   env               the union of the running servers' env fragments, for tests
#   *.log             apt / Maven output of the last up.sh
#   .lock             serialises up.sh / down.sh runs (jest's global setup may race a dev)
# The resolved classpaths are cached next to the jars, in ~/.m2/ticketing-infra, keyed
# by the pom's content: a fresh clone (every CI run) then needs no Maven run at all.
# Likewise the FerretDB and Mailpit binaries are built once per machine
# (scripts/infra/ferretdb/build.sh, scripts/infra/mailpit/install.sh).

INFRA_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$INFRA_DIR/../.." && pwd)
# Absolute (symlinks kept): servers are found again by paths on their command lines.
STATE_DIR=$(realpath -m -s -- "${INFRA_STATE_DIR:-$REPO_ROOT/.infra}")
CLASSPATH_CACHE_DIR=${INFRA_CLASSPATH_CACHE:-$HOME/.m2/ticketing-infra}
ENV_FILE="$STATE_DIR/env"
ALL_SERVERS=(nats kafka mongo ferret mailpit)

say() { printf '[infra] %s\n' "$*" >&2; }
die() { printf '[infra] ERROR: %s\n' "$*" >&2; exit 1; }

# A word of the server's command line, so that a pid recycled by an unrelated process
# (after a reboot, say) is never mistaken for ours.
cmdline_marker() {
  case $1 in
    nats) echo nats-server ;;
    kafka) echo kafka.Kafka ;;
    mongo) echo MongoLauncher ;;
    ferret) echo ferretdb ;;
    mailpit) echo mailpit ;;
  esac
}

# True while the process exists and is not a zombie (in a container, PID 1 may never
# reap our detached servers, and kill -0 succeeds on a zombie).
alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ -n $stat && ${stat:0:1} != Z ]]
}

# Prints the pid of the server if the one we started is still alive; fails otherwise.
running_pid() {
  local name=$1 pid
  pid=$(cat "$STATE_DIR/$name/pid" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$(cmdline_marker "$name")" || return 1
  echo "$pid"
}

# Checks a comma-separated server list (INFRA_ONLY or arguments) and prints it one a line.
select_servers() {
  local list=${1:-} s
  if [[ -z $list ]]; then printf '%s\n' "${ALL_SERVERS[@]}"; return; fi
  for s in ${list//,/ }; do
    case $s in
      nats | kafka | mongo | ferret | mailpit) echo "$s" ;;
      *) die "unknown server '$s' (known: ${ALL_SERVERS[*]})" ;;
    esac
  done
}

# .infra/env lists what is actually running, whoever started it, so tests see one file.
write_env_file() {
  local tmp="$ENV_FILE.tmp.$$" s any=0
  {
    echo "# Written by scripts/infra/up.sh; read by test/support/infra.ts. Shell and dotenv syntax."
    for s in "${ALL_SERVERS[@]}"; do
      if running_pid "$s" >/dev/null && [[ -f $STATE_DIR/$s/env ]]; then
        cat "$STATE_DIR/$s/env"
        any=1
      fi
    done
  } >"$tmp"
  if ((any)); then mv -f "$tmp" "$ENV_FILE"; else rm -f "$tmp" "$ENV_FILE"; fi
}

# Stops one process: `signal` first (servers shut down cleanly on it), SIGKILL if it is still
# there after 30 s (it is test data anyway). Waits until it is gone, so its ports are free.
stop_process() {
  local name=$1 pid=$2 signal=${3:-TERM} i
  kill "-$signal" "$pid" 2>/dev/null || true
  for ((i = 0; i < 60; i++)); do
    alive "$pid" || break
    sleep 0.5
  done
  if alive "$pid"; then
    say "$name (pid $pid) ignored SIG$signal for 30s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
    while alive "$pid"; do sleep 0.2; done
  fi
  say "stopped $name (pid $pid)"
}

# FerretDB's PostgreSQL: the postmaster's pid (first line of postmaster.pid) while it runs.
ferret_pg_pid() {
  local pid
  pid=$(head -n 1 "$STATE_DIR/ferret/pg/postmaster.pid" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$STATE_DIR/ferret/pg" || return 1
  echo "$pid"
}

# Stops FerretDB, then its PostgreSQL (SIGINT: "fast" shutdown, which does not wait for
# clients to disconnect as SIGTERM's "smart" one would).
stop_ferret() {
  local pid
  if pid=$(running_pid ferret); then stop_process ferret "$pid" TERM; fi
  if pid=$(ferret_pg_pid); then stop_process "ferret's postgres" "$pid" INT; fi
}

take_lock() {
  mkdir -p "$STATE_DIR"
  exec 9>"$STATE_DIR/.lock"
  flock -w 900 9 || die "another scripts/infra run holds $STATE_DIR/.lock"
}
