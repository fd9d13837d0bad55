#!/usr/bin/env bash
# Runs once after the broker is healthy (compose service `kafka-init`, apache/kafka image):
#   1. creates the partner's SCRAM-SHA-512 user, or sets its password again (idempotent);
#   2. lets it read the outbound topics and commit offsets for its consumer groups.
# The app itself uses the PLAINTEXT listener inside the network and needs none of this.
#
# Environment:
#   BOOTSTRAP_SERVER   the internal listener, e.g. kafka:9092
#   PARTNER_USERNAME   SCRAM user name (default partner)
#   PARTNER_PASSWORD   its password; empty = create no user (the partner listener then
#                      accepts nobody)
#   PARTNER_TOPICS     comma-separated topics the partner may read
#   KAFKA_BIN          where the Kafka scripts are (default /opt/kafka/bin)
set -euo pipefail

bin=${KAFKA_BIN:-/opt/kafka/bin}
server=${BOOTSTRAP_SERVER:?BOOTSTRAP_SERVER is required}
user=${PARTNER_USERNAME:-partner}
password=${PARTNER_PASSWORD:-}
topics=${PARTNER_TOPICS:-organizers,events,orders,refunds,tickets,music.events}

if [[ -z $password ]]; then
  echo "kafka-init: KAFKA_PARTNER_PASSWORD is empty; no partner user created."
  exit 0
fi
if [[ ! $user =~ ^[A-Za-z0-9._-]+$ ]]; then
  echo "kafka-init: KAFKA_PARTNER_USERNAME may use letters, digits and . _ - only" >&2
  exit 2
fi
# kafka-configs parses `SCRAM-SHA-512=[password=...]`: commas, brackets, '=' and quotes
# would split or end the value; whitespace is lost.
if [[ ${#password} -lt 16 || $password =~ [][,=\"\'[:space:]] ]]; then
  echo "kafka-init: KAFKA_PARTNER_PASSWORD must be at least 16 characters without , [ ] = quotes or spaces" \
    "(e.g. openssl rand -hex 24)" >&2
  exit 2
fi

for attempt in $(seq 1 30); do
  "$bin/kafka-broker-api-versions.sh" --bootstrap-server "$server" >/dev/null 2>&1 && break
  [[ $attempt == 30 ]] && { echo "kafka-init: broker $server does not answer" >&2; exit 1; }
  sleep 2
done

"$bin/kafka-configs.sh" --bootstrap-server "$server" --alter --entity-type users --entity-name "$user" \
  --add-config "SCRAM-SHA-512=[iterations=8192,password=$password]"

topic_args=()
IFS=',' read -ra topic_list <<<"$topics"
for topic in "${topic_list[@]}"; do
  topic=${topic//[[:space:]]/}
  [[ -n $topic ]] && topic_args+=(--topic "$topic")
done
if ((${#topic_args[@]} == 0)); then
  echo "kafka-init: KAFKA_PARTNER_TOPICS is empty" >&2
  exit 2
fi

# --consumer: Read and Describe on the topics, Read on the groups. Any group id: partners
# choose theirs. With several partners, give each its own group prefix instead
# (--group <prefix> --resource-pattern-type prefixed).
"$bin/kafka-acls.sh" --bootstrap-server "$server" --add --allow-principal "User:$user" \
  --consumer "${topic_args[@]}" --group '*'

echo "kafka-init: partner user '$user' may read: $topics"
