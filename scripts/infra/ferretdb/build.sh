#!/usr/bin/env bash
# Builds FerretDB (the stricter MongoDB-protocol test server) from its Go module source
# once per machine and prints the path of the cached binary.
#
# Why not `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2`: that binary
# panics on start ("Invalid build/version/version.txt"); FerretDB's own build writes the
# version into that embedded file first. So: fetch the module source through the Go
# module proxy, copy it to a writable place, write the version file, `go build`.
#
# The binary is cached under $INFRA_FERRET_CACHE (default ~/.cache/ticketing-infra),
# keyed by the version: later runs (and fresh clones on the same machine) skip the build.
#
#   bash scripts/infra/ferretdb/build.sh    print the binary's path, building it if needed
#
# Environment: INFRA_FERRET_CACHE. The version is pinned: up.sh passes flags of 1.x.
set -euo pipefail

VERSION=v1.24.2
CACHE_DIR=${INFRA_FERRET_CACHE:-$HOME/.cache/ticketing-infra}
BIN=$CACHE_DIR/ferretdb-$VERSION/ferretdb

say() { printf '[infra] %s\n' "$*" >&2; }
die() { printf '[infra] ERROR: %s\n' "$*" >&2; exit 1; }

if [[ -x $BIN ]]; then
  echo "$BIN"
  exit 0
fi

command -v go >/dev/null ||
  die "go not found: the FerretDB test server is built from source once per machine and needs Go 1.24+ (https://go.dev/dl); or leave ferret out of INFRA_ONLY"

work=$(mktemp -d "${TMPDIR:-/tmp}/ferretdb-build.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
log=$work/build.log
started=$SECONDS
say "building FerretDB $VERSION from source (first run on this machine, a few minutes)"

# `go mod download` outside any module: GOFLAGS from the caller (e.g. -mod=vendor) must
# not apply. It prints the module's directory in the read-only module cache.
src=$(cd "$work" && GOFLAGS= GO111MODULE=on go mod download -json "github.com/FerretDB/FerretDB@$VERSION" 2>"$log" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p') || true
[[ -n $src && -d $src ]] || {
  tail -n 20 "$log" >&2
  die "could not download github.com/FerretDB/FerretDB@$VERSION through the Go module proxy (GOPROXY=$(go env GOPROXY))"
}

cp -R "$src" "$work/src"
chmod -R u+w "$work/src"
printf '%s\n' "$VERSION" >"$work/src/build/version/version.txt"
(cd "$work/src" && GOFLAGS=-trimpath CGO_ENABLED=0 go build -o "$work/ferretdb" ./cmd/ferretdb) >>"$log" 2>&1 || {
  tail -n 30 "$log" >&2
  die "go build of FerretDB $VERSION failed"
}
"$work/ferretdb" --version >>"$log" 2>&1 || {
  tail -n 10 "$log" >&2
  die "the FerretDB binary just built does not start"
}

# Moved into place last, so an interrupted build never leaves a binary that looks cached.
mkdir -p "${BIN%/*}"
mv -f "$work/ferretdb" "$BIN.tmp.$$"
mv -f "$BIN.tmp.$$" "$BIN"
say "built FerretDB $VERSION in $((SECONDS - started))s; cached as $BIN"
echo "$BIN"
