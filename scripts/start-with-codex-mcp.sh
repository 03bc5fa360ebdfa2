#!/usr/bin/env bash
# TechSapo + Codex MCP bridge: environment, build, services, checks (docs/operations.md).
#   ./scripts/start-with-codex-mcp.sh               start in the background, return once all are healthy
#   ./scripts/start-with-codex-mcp.sh --foreground  stay attached; Ctrl-C stops everything
#   --without-codex  every service but the bridge      --skip-build  run what apps/*/dist holds
set -euo pipefail
# shellcheck source=scripts/lib/node.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/node.sh"
exec "$NODE" "${LAUNCHER[@]}" start "$@"
