#!/bin/sh
# Checks the architecture rules of docs/architecture.md on a built tree:
#  1. each folder of src/ uses only the folders its line below allows
#     (read from the objects' symbol tables: who defines what another uses);
#  2. no dependency cycle between object files;
#  3. no function longer than MAX_FN lines and no file longer than MAX_FILE
#     lines in src/ and cli/.
# Usage: scripts/check_layout.sh [BUILD_DIR]   (default build; run `make` first)
# Exit status 1 lists every violation.
set -u
BUILD=${1:-build}
MAX_FN=${MAX_FN:-120}
MAX_FILE=${MAX_FILE:-800}
[ -d "$BUILD/obj" ] || { echo "check_layout: $BUILD/obj missing (run make first)" >&2; exit 2; }

# folder: the folders it may use (besides itself). A new folder gets a line.
ALLOWED='
core:
spec: core
train: core
data: core
plot: core
text: core data
embed: core data text
layers: core spec
model: core spec layers train
fit: core spec layers train model data
interop: core spec layers train model
dist: core
forecast: core data
classify: core
'
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '%s\n' "$ALLOWED" > "$tmp/allowed"
find "$BUILD/obj" -name '*.o' | sort | while read -r o; do
    rel=${o#"$BUILD"/obj/}
    nm "$o" | awk -v f="$rel" '$1 == "U" { print "U", f, $2 } NF == 3 && $2 ~ /^[TDBRC]$/ { print "D", f, $3 }'
done > "$tmp/syms"
awk -v allowed="$tmp/allowed" '
function top(p) { sub(/\/.*/, "", p); return p }
BEGIN {
    while ((getline line < allowed) > 0) {
        if (line !~ /:/) continue
        split(line, kv, ":"); n = split(kv[2], ds, " ")
        known[kv[1]] = 1
        for (i = 1; i <= n; i++) ok[kv[1], ds[i]] = 1
    }
}
$1 == "D" { def[$3] = $2 }
$1 == "U" { use[++nu] = $2 SUBSEP $3 }
function dfs(v,   i, w) {
    state[v] = 1; stack[++sp] = v
    for (i = 1; i <= nadj[v]; i++) {
        w = adj[v, i]
        if (state[w] == 1) {
            s = ""; for (k = sp; k >= 1; k--) { s = stack[k] " <- " s; if (stack[k] == w) break }
            print "cycle: " s w; bad = 1
        } else if (state[w] == 0) dfs(w)
    }
    sp--; state[v] = 2
}
END {
    for (i = 1; i <= nu; i++) {
        split(use[i], p, SUBSEP); f = p[1]; s = p[2]
        if (!(s in def) || def[s] == f) continue
        g = def[s]
        if (!((f, g) in edge)) { edge[f, g] = 1; adj[f, ++nadj[f]] = g; nodes[f] = 1; nodes[g] = 1 }
        a = top(f); b = top(g)
        if (a == b) continue
        if (!(a in known)) { if (!(a in warned)) print "folder src/" a " has no line in ALLOWED (scripts/check_layout.sh)"; warned[a] = 1; bad = 1; continue }
        if (!((a, b) in ok) && !((a, b, s) in said)) { print "src/" f " uses " s " from src/" g " (" a " may not depend on " b ")"; said[a, b, s] = 1; bad = 1 }
    }
    for (v in nodes) if (state[v] == 0) dfs(v)
    exit bad
}' "$tmp/syms" > "$tmp/deps.out"
st=$?
cat "$tmp/deps.out"

# Function and file lengths: a definition opens with `{` at the end of a
# line starting in column 0 and closes with `}` in column 0 (house format).
find src cli -name '*.c' -o -name '*.h' | sort | xargs awk -v maxfn="$MAX_FN" -v maxfile="$MAX_FILE" '
FNR == 1 { if (prev != "" && plines > maxfile) { print prev ": " plines " lines (max " maxfile ")"; bad = 1 } infn = 0 }
{ prev = FILENAME; plines = FNR }
!infn && /^[A-Za-z_][^;=]*\(/ && !/^(typedef|struct|enum|union|static const|const)[ \t]/ { pend = FNR; head = $0 }
!infn && pend && /;[ \t]*$/ { pend = 0 }
!infn && pend && /\{[ \t]*$/ { infn = 1; start = pend; pend = 0 }
infn && /^\}/ { n = FNR - start + 1; if (n > maxfn) { sub(/\(.*/, "", head); print FILENAME ":" start ": " head ": " n " lines (max " maxfn ")"; bad = 1 } infn = 0 }
END { if (plines > maxfile) { print prev ": " plines " lines (max " maxfile ")"; bad = 1 } exit bad }'
st2=$?
[ $st -eq 0 ] && [ $st2 -eq 0 ] && { echo "check_layout: ok"; exit 0; }
exit 1
