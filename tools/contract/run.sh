#!/usr/bin/env bash
# Contract test: schemathesis over the spec the server serves (see run.py for what it checks).
#
#   tools/contract/run.sh target/debug/wushe [run.py options, e.g. --max-time 60 --roles admin]
#
# Builds nothing: pass the wushe binary (`cargo build --locked -p wushe-app`). Installs the
# pinned schemathesis into $CONTRACT_VENV (default target/contract-venv) when it is missing.
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1  # keep __pycache__ out of tools/contract
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${CONTRACT_VENV:-$root/target/contract-venv}"
stamp="$venv/.requirements"
if [ ! -x "$venv/bin/schemathesis" ] || ! cmp -s "$here/requirements.txt" "$stamp"; then
    echo "[contract] installing schemathesis into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt"
    cp "$here/requirements.txt" "$stamp"
fi
exec "$venv/bin/python" "$here/run.py" "$@"
