#!/bin/sh
# Installs seqnn's build dependencies from Debian (12+) packages. Run as root
# (or with sudo available). Idempotent: skips apt when everything is present.
# libhdf5-dev is optional for the build (Keras .h5 / .keras import and .keras
# export; the Makefile builds without it when pkg-config finds no hdf5), but
# installed here so that a fresh machine gets the whole tool.
set -e
PKGS="build-essential pkg-config libopenblas-dev zlib1g-dev libarchive-dev libcairo2-dev libhdf5-dev xz-utils"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
