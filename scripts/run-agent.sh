#!/usr/bin/env bash
# The one command to run slotap on this node: installs what is missing,
# builds, and starts the agent (as root) with the built-in configuration,
# or with the flags given, e.g. scripts/run-agent.sh --config my.yaml
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
make -s -j"$(nproc)" build/slotap
exec build/slotap "$@"
