#!/usr/bin/env bash
# Stops what the launcher started: TERM, up to 10 s, KILL if needed, PID files removed, then the ports still
# in use reported. Stale PID files (process gone, or the PID now another program's) are removed unsignalled.
set -euo pipefail
# shellcheck source=scripts/lib/node.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/node.sh"
exec "$NODE" "${LAUNCHER[@]}" stop "$@"
