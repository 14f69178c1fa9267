#!/usr/bin/env bash
# Tests of sam/ (template.yaml, pipeline.yaml) and the ASL: cfn-lint, checkov, asl-validator,
# the SAM template transformed offline and created in a moto server. Installs what it needs:
# each Python tool in its own venv under $HOME/.cache/photopipe-venvs/<tool> (together pip
# backtracks for minutes over their pins), asl-validator from package-lock.json with npm.
# Exits non-zero on any failure; pytest's summary line is the last line.
set -euo pipefail
cd "$(dirname "$0")"

VENVS="${PHOTOPIPE_VENVS:-$HOME/.cache/photopipe-venvs}"
export PHOTOPIPE_VENVS="$VENVS"

venv() { # venv NAME MARKER PACKAGES...: create/refresh $VENVS/NAME when MARKER is missing
  local name=$1 marker=$2
  shift 2
  if [ ! -x "$VENVS/$name/bin/$marker" ]; then
    echo "== installing $* into $VENVS/$name"
    python3 -m venv "$VENVS/$name"
    "$VENVS/$name/bin/pip" install --quiet --disable-pip-version-check "$@"
  fi
}
venv cfn-lint cfn-lint "cfn-lint>=1.20,<2"
venv checkov checkov "checkov>=3.2,<4"
venv moto pytest "moto[server,cloudformation]>=5.1,<6" "aws-sam-translator>=1.90,<2" boto3 cfn-flip pytest

if [ ! -x node_modules/.bin/asl-validator ]; then
  echo "== npm ci (asl-validator)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# No AWS anywhere: a region for the translator and boto3, fake credentials for moto, and
# checkov kept from calling its platform.
export AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
unset AWS_PROFILE AWS_SESSION_TOKEN
export BC_SKIP_MAPPING=TRUE CHECKOV_RUN_SCA_PACKAGE_SCAN_V2=false
export TMPDIR="${TMPDIR:-/tmp}"

exec "$VENVS/moto/bin/python" -m pytest -q -p no:cacheprovider "$@" test_template.py
