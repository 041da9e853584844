#!/bin/sh
# Fails when libseqnn.so exports a symbol that no header in include/ declares
# (the library is built with -fvisibility=hidden; SN_API marks the public API).
# Usage: scripts/check_exports.sh [BUILD_DIR]
set -u
BUILD=${1:-build}
so="$BUILD/libseqnn.so"
[ -f "$so" ] || { echo "check_exports: $so missing (run make first)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$so" | awk '{ print $3 }' | sort -u > "$tmp/exported"
cat include/seqnn.h include/seqnn/*.h | grep -o '\bsn_[A-Za-z0-9_]*' | sort -u > "$tmp/declared"
extra=$(comm -23 "$tmp/exported" "$tmp/declared")
if [ -n "$extra" ]; then
    echo "libseqnn.so exports symbols that include/ does not declare:"
    echo "$extra" | sed 's/^/  /'
    exit 1
fi
echo "check_exports: ok ($(wc -l < "$tmp/exported") symbols, all declared in include/)"
