#!/usr/bin/env bash
# Property-based fuzz of every operation of the API document with Schemathesis.
#
#   scripts/fuzz/schemathesis.sh BASE_URL [schemathesis run options...]
#
# BASE_URL is the gateway's origin (e.g. http://127.0.0.1:3000); the document is read from
# BASE_URL/api/openapi.json. Bearer tokens go in FUZZ_TOKEN (one run per token: call it once per
# role). Needs Python 3 with venv and pip; the venv lives under ~/.cache and is reused.
set -euo pipefail

SCHEMATHESIS_VERSION=4.32.5
VENV="${FUZZ_VENV:-$HOME/.cache/ticketing-schemathesis-$SCHEMATHESIS_VERSION}"

base="${1:?usage: schemathesis.sh BASE_URL [options]}"
shift

if [ ! -x "$VENV/bin/schemathesis" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

# Schemathesis keeps its example database in the working directory: not in the checkout.
cd "${TMPDIR:-/tmp}"

auth=()
if [ -n "${FUZZ_TOKEN:-}" ]; then auth=(--header "Authorization: Bearer $FUZZ_TOKEN"); fi

# not_a_server_error: no 5xx; status_code_conformance: no undocumented status;
# response_schema_conformance / content_type_conformance: bodies as documented.
exec "$VENV/bin/schemathesis" run "$base/api/openapi.json" \
  --url "$base" \
  --checks not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance,response_headers_conformance \
  --no-color \
  "${auth[@]}" \
  "$@"
