#!/usr/bin/env bash
# Runs Debian's python3 (the one the module is built for; it has numpy) with
# the freshly built `mtif` package on its path:
#   scripts/python.sh examples/quickstart.py
#   scripts/python.sh            # an interactive prompt where `import mtif` works
# Elsewhere: PYTHONPATH=/path/to/mtif/build/python /usr/bin/python3 ...
root="$(cd "$(dirname "$0")/.." && pwd)"
export PYTHONPATH="$root/build/python${PYTHONPATH:+:$PYTHONPATH}"
exec "${MTIF_PYTHON:-/usr/bin/python3}" "$@"
