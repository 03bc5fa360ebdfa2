#!/usr/bin/env bash
# The codex-mcp-bridge alone (same phases as start-with-codex-mcp.sh; --foreground stays attached).
set -euo pipefail
# shellcheck source=scripts/lib/node.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/node.sh"
exec "$NODE" "${LAUNCHER[@]}" start --only codex-mcp-bridge "$@"
