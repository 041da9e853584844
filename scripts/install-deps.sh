#!/bin/sh
# Installs seqnn's dependencies from Debian (12+) packages: the one install
# script, for the README, CI and benchmarks. Run as root (or with sudo).
# Idempotent: skips apt when everything asked for is present.
#   scripts/install-deps.sh [GROUP...]
# Groups (the base group is always installed):
#   base   build, test and run: compiler, OpenBLAS (DYNAMIC_ARCH), zlib,
#          libarchive, cairo, xz (HDF5 needs no library: seqnn reads and
#          writes it itself)
#   ci     what .ci/run needs beyond base: clang and its libFuzzer runtime
#          (make fuzz), valgrind (make valgrind)
#   bench  make bench's peers: PyTorch (python3-torch) and oneDNN (libdnnl-dev)
#   mpi    `make MPI=1` and `make MPI=1 test-mpi`: Open MPI (mpicc, mpirun;
#          docs/distributed.md)
# Later optional groups get a line below and one in usage.
set -e
group_pkgs() {
    case "$1" in
    base) echo "build-essential pkg-config libopenblas-dev zlib1g-dev libarchive-dev libcairo2-dev xz-utils" ;;
    ci) echo "clang libclang-rt-14-dev valgrind" ;;
    bench) echo "python3-torch libdnnl-dev" ;;
    mpi) echo "libopenmpi-dev openmpi-bin" ;;
    *) echo "install-deps.sh: unknown group '$1' (groups: base ci bench mpi)" >&2; return 1 ;;
    esac
}
PKGS=$(group_pkgs base)
for g in "$@"; do PKGS="$PKGS $(group_pkgs "$g")"; done
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
