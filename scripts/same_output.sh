#!/bin/sh
# Runs the short training jobs whose model files must stay byte-identical
# across a change that claims not to alter behaviour (issue 10's proof):
# forecast lstm_dropout / gru_stacked / conv1d and classify bigram /
# embedding_bilstm_masked. Prints one sha256 per model file; run it with the
# binary built before and after the change and diff the two outputs.
# Usage: scripts/same_output.sh SEQNN_BINARY OUT_DIR [IMDB_ARCHIVE]
set -e
BIN=$1; O=$2; IMDB=${3:-../shared/data/aclImdb_v1.tar.xz}
[ -x "$BIN" ] && [ -n "$O" ] || { echo "usage: $0 SEQNN_BINARY OUT_DIR [IMDB_ARCHIVE]" >&2; exit 2; }
rm -rf "$O"; mkdir -p "$O"
q="--no-plots --quiet"
"$BIN" forecast --model lstm_dropout --epochs 2 --out "$O/f" $q > "$O/forecast.log" 2>&1
"$BIN" forecast --model gru_stacked --epochs 1 --out "$O/f2" $q > "$O/forecast2.log" 2>&1
"$BIN" forecast --model conv1d --epochs 1 --out "$O/f3" $q > "$O/forecast3.log" 2>&1
if [ -f "$IMDB" ]; then
    "$BIN" classify --data "$IMDB" --model bigram --epochs 2 --out "$O/c" $q > "$O/classify.log" 2>&1
    "$BIN" classify --data "$IMDB" --model embedding_bilstm_masked --limit 300 --epochs 1 --out "$O/c2" $q \
        > "$O/classify2.log" 2>&1
else
    echo "($IMDB not found: classify runs skipped)" >&2
fi
cd "$O" && find . -name '*.seqnn' | sort | xargs sha256sum
