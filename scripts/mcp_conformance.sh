#!/usr/bin/env bash
# The official MCP conformance suite (@modelcontextprotocol/conformance) through Tollhouse.
#
# It runs the suite's server scenarios against the reference server
# (tests/fakes/mcp_conformance_server.py: the fixtures the scenarios call) directly, then
# through a single-upstream Tollhouse MCP route in front of it, and fails when a scenario that
# passes directly fails through the gateway (DNS-rebinding protection included).
#
# The suite needs Node >= 22; the npm registry carries Node itself as the `node` package, so
# both are installed with npm into $MCP_CONFORMANCE_WORK (default .mcp-conformance/, ignored by
# git). Results (the suite's checks.json per scenario, logs) stay there.
#
#   bash scripts/mcp_conformance.sh            # exit 0: nothing regressed through the gateway
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=${MCP_CONFORMANCE_WORK:-$ROOT/.mcp-conformance}
PY=${PYTHON:-$ROOT/.venv/bin/python}
SUITE_VERSION=0.1.16
NODE_VERSION=22

command -v npm >/dev/null || { echo "mcp_conformance: npm is needed" >&2; exit 2; }
mkdir -p "$WORK"
stamp="$WORK/.installed-$SUITE_VERSION-node$NODE_VERSION"
if [ ! -f "$stamp" ]; then
  echo "mcp_conformance: installing node@$NODE_VERSION and the suite $SUITE_VERSION with npm"
  [ -f "$WORK/package.json" ] || echo '{"name": "tollhouse-mcp-conformance", "private": true}' >"$WORK/package.json"
  npm install --prefix "$WORK" --no-audit --no-fund --loglevel=error \
    "node@$NODE_VERSION" "@modelcontextprotocol/conformance@$SUITE_VERSION" >"$WORK/npm.log" 2>&1 \
    || { cat "$WORK/npm.log" >&2; exit 2; }
  touch "$stamp"
fi
NODE_BIN="$WORK/node_modules/node/bin"
"$NODE_BIN/node" -e 'process.exit(parseInt(process.versions.node) >= 22 ? 0 : 1)' \
  || { echo "mcp_conformance: node >= 22 did not install" >&2; exit 2; }

free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
REF_PORT=$(free_port)
GW_PORT=$(free_port)
RUN="$WORK/run"
rm -rf "$RUN" && mkdir -p "$RUN"

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

wait_for() {  # url, what, log
  for _ in $(seq 1 120); do
    if "$PY" - "$1" <<'EOF' 2>/dev/null; then return 0; fi
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1], timeout=1)
except urllib.error.HTTPError:
    pass  # it answers: up
EOF
    sleep 0.25
  done
  echo "mcp_conformance: $2 did not start" >&2; cat "$3" >&2; exit 2
}

"$PY" -m tests.fakes.mcp_conformance_server "$REF_PORT" >"$RUN/reference.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$REF_PORT/mcp" "the reference server" "$RUN/reference.log"

cat >"$RUN/gateway.yaml" <<EOF
# A single-upstream MCP route in front of the reference server (names unchanged).
server: {host: 127.0.0.1, port: $GW_PORT}
auth: {allow_unauthenticated: true}   # the suite's client sends no credentials
providers: {demo: {kind: demo}}
models: [{alias: demo, target: demo/demo-1}]
mcp:
  servers:
    reference: {url: "http://127.0.0.1:$REF_PORT/mcp", catalog_ttl_s: 0, timeout_s: 30}
  routes:
    - {name: conformance, servers: [reference]}
  pinning: {mode: "off"}   # nothing to approve: the fixtures are the suite's
EOF
"$PY" -m tollhouse.cli.main serve --config "$RUN/gateway.yaml" >"$RUN/gateway.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$GW_PORT/healthz" "the gateway" "$RUN/gateway.log"

suite() {  # name, url
  PATH="$NODE_BIN:$PATH" timeout 600 "$WORK/node_modules/.bin/conformance" server \
    --suite "${MCP_CONFORMANCE_SUITE:-all}" --url "$2" -o "$RUN/$1" >"$RUN/$1.log" 2>&1 || true  # failures are judged below
}
suite direct "http://127.0.0.1:$REF_PORT/mcp"
suite gateway "http://127.0.0.1:$GW_PORT/mcp/conformance"
"$PY" scripts/mcp_conformance_compare.py "$RUN/direct" "$RUN/gateway"
