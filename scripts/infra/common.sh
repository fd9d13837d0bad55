# Shared by up.sh and down.sh (sourced, not run).
#
# Layout of the runtime state, all under <repo>/.infra (gitignored):
#   <server>/         one per server (nats, kafka, mongo): pid, log, data, env fragment
#   env               the union of the running servers' env fragments, for tests
#   *.log             apt / Maven output of the last up.sh
#   .lock             serialises up.sh / down.sh runs (jest's global setup may race a dev)
# The resolved classpaths are cached next to the jars, in ~/.m2/ticketing-infra, keyed
# by the pom's content: a fresh clone (every CI run) then needs no Maven run at all.

INFRA_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$INFRA_DIR/../.." && pwd)
STATE_DIR="$REPO_ROOT/.infra"
CLASSPATH_CACHE_DIR=${INFRA_CLASSPATH_CACHE:-$HOME/.m2/ticketing-infra}
ENV_FILE="$STATE_DIR/env"
ALL_SERVERS=(nats kafka mongo)

say() { printf '[infra] %s\n' "$*" >&2; }
die() { printf '[infra] ERROR: %s\n' "$*" >&2; exit 1; }

# A word of the server's command line, so that a pid recycled by an unrelated process
# (after a reboot, say) is never mistaken for ours.
cmdline_marker() {
  case $1 in
    nats) echo nats-server ;;
    kafka) echo kafka.Kafka ;;
    mongo) echo MongoLauncher ;;
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
      nats | kafka | mongo) echo "$s" ;;
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

take_lock() {
  mkdir -p "$STATE_DIR"
  exec 9>"$STATE_DIR/.lock"
  flock -w 900 9 || die "another scripts/infra run holds $STATE_DIR/.lock"
}
