# shellcheck shell=bash
# Sourced by the launcher scripts: cd to the repository and find the pinned Node 24 (`npm ci` installs it),
# because the `node` on PATH may be older. Sets NODE and LAUNCHER.
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
NODE=node_modules/.bin/node
if [ ! -x "$NODE" ]; then
  echo "Dependencies are not installed: run \`npm ci\` first (it installs the pinned Node 24)." >&2
  exit 1
fi
# The launcher reads @techsapo/config from its TypeScript sources, so it runs before the build.
# shellcheck disable=SC2034 # used by the scripts that source this file
LAUNCHER=(--conditions=@techsapo/source --import tsx scripts/launcher.mjs)
