#!/usr/bin/env bash
# Cargo runner (CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER): runs each test binary cargo hands
# it inside a fresh USB rig guest and prints only the binary's own output.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
BIN="$1"; shift
JOB="$(mktemp)"
trap 'rm -f "$JOB"' EXIT
{
  echo '#!/bin/sh'
  echo 'cd /hil/bin'
  echo 'export POS_USB_RIG=1'
  for v in RUST_BACKTRACE RUST_LOG; do
    if [ -n "${!v:-}" ]; then printf "export %s='%s'\n" "$v" "${!v//\'/\'\\\'\'}"; fi
  done
  printf 'exec ./%s' "$(basename "$BIN")"
  for a in "$@"; do printf " '%s'" "${a//\'/\'\\\'\'}"; done
  echo
} > "$JOB"
# Device-side helpers (e.g. sim-printer) go into the guest too.
# shellcheck disable=SC2086
exec "$HERE/hil.sh" --quiet --job "$JOB" "$BIN" ${HIL_HELPERS:-}
