#!/usr/bin/env bash
# Installs Mailpit (the SMTP test server with an HTTP API to read what arrived) with
# `go install` once per machine and prints the path of the cached binary.
#
# The binary is cached under $INFRA_MAILPIT_CACHE (default ~/.cache/ticketing-infra), keyed by
# the version: later runs (and fresh clones on the same machine) skip the build.
#
#   bash scripts/infra/mailpit/install.sh    print the binary's path, building it if needed
#
# The version is pinned: up.sh passes flags of 1.33, and docker-compose.yml runs the same tag.
set -euo pipefail

VERSION=v1.33.1
CACHE_DIR=${INFRA_MAILPIT_CACHE:-$HOME/.cache/ticketing-infra}
BIN=$CACHE_DIR/mailpit-$VERSION/mailpit

say() { printf '[infra] %s\n' "$*" >&2; }
die() { printf '[infra] ERROR: %s\n' "$*" >&2; exit 1; }

if [[ -x $BIN ]]; then
  echo "$BIN"
  exit 0
fi

GO=$(command -v go || true)
[[ -n $GO ]] || { [[ -x /usr/local/go/bin/go ]] && GO=/usr/local/go/bin/go; }
[[ -n $GO ]] ||
  die "go not found: the Mailpit test server is installed with \`go install\` once per machine (https://go.dev/dl); or leave mailpit out of INFRA_ONLY"

work=$(mktemp -d "${TMPDIR:-/tmp}/mailpit-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
log=$work/build.log
started=$SECONDS
say "installing Mailpit $VERSION with go install (first run on this machine, a few minutes)"

# Outside any module; -mod=mod so a caller's GOFLAGS (e.g. -mod=vendor) cannot get in the way.
# The version goes into the binary so `mailpit version` and its API tell the truth.
(cd "$work" && GOBIN=$work/bin GOFLAGS=-mod=mod CGO_ENABLED=0 "$GO" install -trimpath \
  -ldflags "-s -w -X github.com/axllent/mailpit/config.Version=$VERSION" \
  "github.com/axllent/mailpit@$VERSION") >"$log" 2>&1 || {
  tail -n 30 "$log" >&2
  die "go install github.com/axllent/mailpit@$VERSION failed (GOPROXY=$("$GO" env GOPROXY))"
}
"$work/bin/mailpit" version --no-release-check >>"$log" 2>&1 || "$work/bin/mailpit" --help >>"$log" 2>&1 || {
  tail -n 10 "$log" >&2
  die "the Mailpit binary just built does not start"
}

# Moved into place last, so an interrupted build never leaves a binary that looks cached.
mkdir -p "${BIN%/*}"
mv -f "$work/bin/mailpit" "$BIN.tmp.$$"
mv -f "$BIN.tmp.$$" "$BIN"
say "installed Mailpit $VERSION in $((SECONDS - started))s; cached as $BIN"
echo "$BIN"
