#!/usr/bin/env bash
# Makes the offline install bundle: one archive with everything a Debian 12 x86-64 PC (CPython 3.11) needs to
# install QR Checkpoint without network:
#   qr-checkpoint-VERSION/project/            the project's files (what git tracks), installed from here
#   qr-checkpoint-VERSION/wheels/             every wheel of the station and the server, pinned by requirements.lock,
#                                             the project's own wheel, and setuptools/wheel to install the project
#   qr-checkpoint-VERSION/requirements.lock   the lock's runtime part (no test tools), with its hashes
#   qr-checkpoint-VERSION/debian-packages.txt the Debian packages to install from local media (apt sources)
#   qr-checkpoint-VERSION/install.sh          installs all of it (see its header), and the boot service
#   qr-checkpoint-VERSION/SHA256SUMS
# Usage: scripts/bundle.sh [OUTPUT_DIR]   (default dist/; needs .venv from scripts/setup.sh, and PyPI or a pip
# cache for the wheels). Wheels are chosen for the kiosk's platform, not this machine's, so it can run anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mkdir -p "${1:-dist}" && cd "${1:-dist}" && pwd)
PYTHON=${PYTHON:-.venv/bin/python}
version=$(sed -n 's/^version *= *//p' setup.cfg)
name=qr-checkpoint-$version
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage=$work/$name
mkdir -p "$stage/project" "$stage/wheels"

echo "bundle: project files"
git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$stage/project"
install -m 0755 scripts/bundle-install.sh "$stage/install.sh"
cp scripts/debian-packages.txt "$stage/debian-packages.txt"

echo "bundle: the lock's runtime part (station and server, without the test tools)"
"$PYTHON" scripts/runtime_lock.py requirements.lock station server >"$stage/requirements.lock"

# Debian 12 has glibc 2.36: every manylinux tag up to that, the legacy aliases, and pure-Python wheels.
platforms=()
for minor in $(seq 17 36); do platforms+=(--platform "manylinux_2_${minor}_x86_64"); done
platforms+=(--platform manylinux2014_x86_64 --platform manylinux2010_x86_64 --platform manylinux1_x86_64)
target=(--only-binary=:all: "${platforms[@]}" --python-version 3.11 --implementation cp --abi cp311 --abi abi3 --abi none)
echo "bundle: downloading wheels for Debian 12 x86-64, CPython 3.11"
"$PYTHON" -m pip download -q --no-deps --require-hashes "${target[@]}" -d "$stage/wheels" -r "$stage/requirements.lock"
# the build backend, so that install.sh can install the project from project/ with no index
"$PYTHON" -m pip download -q "${target[@]}" -d "$stage/wheels" "setuptools>=68" wheel
echo "bundle: the project's wheel"
# built offline from the bundle's own setuptools/wheel: the same build install.sh does on the kiosk
"$PYTHON" -m pip wheel -q --no-deps --no-index --find-links "$stage/wheels" -w "$stage/wheels" "$stage/project" >/dev/null
rm -rf "$stage/project/build" "$stage/project"/*.egg-info

(cd "$stage" && find . -type f ! -name SHA256SUMS ! -path './project/*' -print0 | sort -z | xargs -0 sha256sum >SHA256SUMS)
# gzip -1: the wheels are compressed already; a higher level costs a minute for a few per cent
tar -cf - -C "$work" "$name" | gzip -1 >"$out/$name-bundle.tar.gz"
echo "bundle: $out/$name-bundle.tar.gz ($(du -h "$out/$name-bundle.tar.gz" | cut -f1))"
