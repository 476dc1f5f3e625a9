#!/usr/bin/env bash
# The fetch benchmark (issue 6): builds the release binary and the bench, installs newsboat and
# GNU time when they are missing (Debian, as root), then runs every row. Extra arguments go to the
# bench (see `--help`), e.g. `bash bench/run.sh --sizes 1000 --no-newsboat`.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v newsboat >/dev/null || missing+=(newsboat)
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq "${missing[@]}"
  else
    echo "bench: please install ${missing[*]} (apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi
cargo build --release --bin geultto-agg --example bench
exec target/release/examples/bench "$@"
