#!/usr/bin/env bash
# One-command benchmark: install what the targets need (idempotent), then run
# bench/runner.py, which writes bench/RESULTS.md (BENCH_OUT). Settings are env vars; see
# bench/README.md. Everything installed here lands in bench/.work/ (gitignored),
# except nginx and wrk, which come from apt.
set -euo pipefail
cd "$(dirname "$0")/.."  # repo root: every path below is relative to it

TARGETS="${BENCH_TARGETS:-direct floor tollhouse litellm portkey}"
WORK=bench/.work
# Peers are pinned so two runs compare like with like; override to try others.
LITELLM_VERSION="${LITELLM_VERSION:-1.108.7}"
PORTKEY_VERSION="${PORTKEY_VERSION:-1.15.2}"
mkdir -p "$WORK"

wants() { [[ " $TARGETS " == *" $1 "* ]]; }

# nginx is the fake upstream, wrk the load driver, taskset pins cores.
missing=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v wrk >/dev/null || missing+=(wrk)
command -v taskset >/dev/null || missing+=(util-linux)
if wants portkey && ! command -v node >/dev/null; then missing+=(nodejs npm); fi
if ((${#missing[@]})); then
  echo "installing ${missing[*]} with apt-get"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
export PATH="$PATH:/usr/sbin"

# LiteLLM gets its own venv so its dependency pins never touch the project's.
if wants litellm && ! "$WORK/litellm-venv/bin/python" -c \
    "import importlib.metadata as m, sys; sys.exit(m.version('litellm') != '$LITELLM_VERSION')" \
    2>/dev/null; then
  echo "installing litellm[proxy]==$LITELLM_VERSION into $WORK/litellm-venv"
  python3 -m venv "$WORK/litellm-venv"
  "$WORK/litellm-venv/bin/pip" install -q --disable-pip-version-check \
    "litellm[proxy]==$LITELLM_VERSION"
fi

# Portkey's gateway breaks on @hono/node-server > 1.14.1 (its response headers
# become immutable and every streamed reply is a 500), so pin that dependency.
PK="$WORK/portkey"
if wants portkey && ! grep -qs "\"version\": \"$PORTKEY_VERSION\"" \
    "$PK/node_modules/@portkey-ai/gateway/package.json"; then
  echo "installing @portkey-ai/gateway@$PORTKEY_VERSION into $PK"
  mkdir -p "$PK"
  cat >"$PK/package.json" <<JSON
{
  "private": true,
  "dependencies": { "@portkey-ai/gateway": "$PORTKEY_VERSION" },
  "overrides": { "@hono/node-server": "1.14.1" }
}
JSON
  npm install --prefix "$PK" --no-audit --no-fund --loglevel=error
fi

# tollhouse and its variants (tollhouse-vkey, tollhouse-audit-async, ...) serve from .venv.
if wants floor || [[ " $TARGETS " == *" tollhouse"* ]]; then
  [ -x .venv/bin/python ] || { echo "no .venv: create it and pip install -e . first" >&2; exit 1; }
fi

exec python3 bench/runner.py
