#!/bin/bash
# parse entrypoint: with no arguments, parse-server configured from the environment
# (server.js: PARSE_SERVER_* variables, keys and the database password from files);
# with a command, runs it (e.g. `node --version`).
set -o errexit -o nounset -o pipefail
if [ $# -gt 0 ]; then exec "$@"; fi
exec node /app/server.js
