#!/usr/bin/env bash
# Installs the real stores of tools/stores/requirements.txt (pinned, hash-checked) into a virtual
# environment under ~/.cache/keyturn, once per version of that file; prints the environment's path.
set -euo pipefail
cd "$(dirname "$0")"
hash=$(sha256sum requirements.txt | cut -c1-12)
venv="${HOME}/.cache/keyturn/stores-${hash}"
if [ ! -x "${venv}/bin/bao" ] || [ ! -x "${venv}/bin/moto_server" ]; then
  rm -rf "${venv}"
  python3 -m venv "${venv}" >&2
  "${venv}/bin/pip" install --quiet --disable-pip-version-check --require-hashes -r requirements.txt >&2
fi
echo "${venv}"
