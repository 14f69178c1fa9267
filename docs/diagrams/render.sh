#!/usr/bin/env bash
# Renders the architecture diagrams (docs/diagrams/*.py, the Python `diagrams` package over
# Graphviz) to docs/images/*.png, or to OUT_DIR when given. Installs what is missing:
# Graphviz from Debian's apt (as root), `diagrams` into a venv at
# ~/.cache/photopipe-venvs/docs (PHOTOPIPE_DOCS_VENV).
#
#   bash docs/diagrams/render.sh [OUT_DIR]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
images="${1:-$here/../images}"
venv="${PHOTOPIPE_DOCS_VENV:-$HOME/.cache/photopipe-venvs/docs}"
diagrams_version="0.25.1"

if ! command -v dot >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "render.sh: installing graphviz" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null
    else
        echo "render.sh: Graphviz (dot) is missing: install the graphviz package" >&2
        exit 1
    fi
fi

if ! "$venv/bin/python" -c "import diagrams" 2>/dev/null; then
    echo "render.sh: installing diagrams $diagrams_version into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "diagrams==$diagrams_version"
fi

mkdir -p "$images"
images="$(cd "$images" && pwd)"
cd "$here"
for source in aws local; do
    "$venv/bin/python" "$source.py" "$images/$source"
    echo "$images/$source.png"
done
