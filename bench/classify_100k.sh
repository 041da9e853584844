#!/bin/sh
# Loading and vectorizing 100,000 short texts from a CSV (issue 12's speed
# target), measured through `seqnn classify`: generates the CSV here (never
# committed: 100,000 texts of 8-20 words drawn from a 5,000-word Zipf-like
# vocabulary, 4 classes, about 10 MB), then trains naive Bayes and prints
# the read / adapt / encode / fit times the command reports.
# Usage: bench/classify_100k.sh [SEQNN_BINARY] [THREADS]   (default build/seqnn, 1)
set -e
BIN=${1:-build/seqnn}; TH=${2:-1}
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
/usr/bin/python3 - "$D/texts.csv" <<'PY'
import csv, random, sys
rng = random.Random(1)
vocab = ["w%d" % i for i in range(5000)]
weights = [1.0 / (i + 1) for i in range(5000)]
with open(sys.argv[1], "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["text", "label"])
    for i in range(100000):
        c = rng.randrange(4)
        words = rng.choices(vocab, weights, k=rng.randint(8, 20))
        words += ["c%d_%d" % (c, rng.randrange(50))]  # a little class signal
        rng.shuffle(words)
        w.writerow([" ".join(words), "class%d" % c])
PY
ls -l "$D/texts.csv" | awk '{ printf "csv: %d bytes, 100000 texts\n", $5 }'
t0=$(date +%s.%N)
"$BIN" classify --threads "$TH" --data "$D/texts.csv" --model nb --out "$D/out" --quiet --no-plots \
    | grep -E "^data:|split|adapted|encoded|naive Bayes|test metrics"
t1=$(date +%s.%N)
echo "seqnn classify wall time: $(echo "$t1 - $t0" | bc) s (read, adapt, encode, fit, evaluate, write the model and plots)"
