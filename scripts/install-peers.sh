#!/usr/bin/env bash
# Installs the npm-based third-party SCIM servers that tests/test_peers.py runs, from their lock files, into
# tests/peers/<server>/node_modules (ignored by git). The PyPI-based ones come with the `test` extra.
set -euo pipefail
cd "$(dirname "$0")/../tests/peers"
for server in scimmy; do
    (cd "$server" && npm ci --no-audit --no-fund --loglevel=error)
done
