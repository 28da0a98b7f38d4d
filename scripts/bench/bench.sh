#!/usr/bin/env bash
# scripts/bench/bench.sh — entry point of `make bench` (`make bench QUICK=1` passes --quick).
#
# Layer: build tooling. Builds the benchmark guests (Guest/bench/Makefile -> build/bench/),
# makes sure Debian's matplotlib is there for the plot (installed here, not in
# scripts/setup.sh, so that `make test` stays lean; without it the PNG is skipped and the run
# says so), then hands over to bench.py beside this file, which runs everything and writes
# results/bench.json and results/bench.png. Debian's python3 is used on purpose: the
# Debian-packaged matplotlib is only importable from /usr/bin/python3.
set -euo pipefail
cd "$(dirname "$0")/../.."

make --no-print-directory -C Guest/bench

PY=/usr/bin/python3
[ -x "$PY" ] || PY="$(command -v python3)"
if ! "$PY" -c 'import matplotlib' 2>/dev/null && command -v apt-get >/dev/null 2>&1; then
    echo "bench: installing python3-matplotlib (Debian) for results/bench.png"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
    if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
            python3-matplotlib >/dev/null 2>&1; then
        DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq >/dev/null 2>&1 || true
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
            python3-matplotlib >/dev/null 2>&1 || echo "bench: python3-matplotlib did not install"
    fi
fi

exec "$PY" scripts/bench/bench.py "$@"
