#!/usr/bin/env bash
# Feeds the seqnn CLI a battery of bad inputs and prints a markdown table:
# bad input -> command -> exit code -> message. Used for docs/robustness.md.
#   scripts/bad_inputs.sh [path/to/seqnn] > docs/robustness-table.md
set -u
S=${1:-build/seqnn}
B=$(mktemp -d)
trap 'rm -rf "$B"' EXIT
M=fuzz/corpus/model/small.seqnn
printf '' > "$B/empty.csv"
printf '"Date Time","T (degC)"\n' > "$B/header_only.csv"
printf '"Date Time","p (mbar)","T (degC)"\n01.01.2009 00:10:00,996.52,-8.02\n01.01.2009 00:20:00,996.57,NaN\n' > "$B/nan.csv"
printf '"Date Time","p (mbar)","T (degC)"\n01.01.2009 00:10:00,996.52,-8.02\n01.01.2009 00:20:00,99x6.57,-8.41\n' > "$B/badnum.csv"
printf '"Date Time","p (mbar)","T (degC)"\n01.01.2009 00:10:00,996.52,inf\n01.01.2009 00:20:00,996.52,1\n' > "$B/inf.csv"
printf '"Date Time","p (mbar)","T (degC)"\n01.01.2009 00:10:00,996.52\n' > "$B/fields.csv"
printf '"Date Time","p (mbar)","T (degC)"\n01.01.2009 00:10:00,996.52,1\n01.01.2009 00:10:00,996.52,2\n' > "$B/dup.csv"
printf '"Date Time","T (degC)"\n01.01.2009 00:10:00,\xff\xfe\n' > "$B/nonutf8.csv"
{ printf '"Date Time","T"\n01.01.2009 00:10:00,'; head -c 2100000 /dev/zero | tr '\0' 1; printf '\n'; } > "$B/longline.csv"
head -c 300 "$M" > "$B/trunc.seqnn"
{ printf 'X'; tail -c +2 "$M"; } > "$B/magic.seqnn"
{ head -c 8 "$M"; printf '\007'; tail -c +10 "$M"; } > "$B/version.seqnn"
{ head -c 20 "$M"; printf '\000\000\000\000\000\001\000\000'; tail -c +29 "$M"; } > "$B/huge.seqnn"
printf '1099511627776 100\nthe 0.1\n' > "$B/huge.vec"
printf '2 2\nthe 0.1 nan\ncat 1 2\n' > "$B/nan.vec"
printf '' > "$B/empty.vec"
printf '2 4\nthe \000\000\200\077\000\000\000\100' > "$B/short.bin"
mkdir -p "$B/textdir/train/pos" "$B/textdir/train/neg" "$B/textdir/test/pos" "$B/textdir/test/neg"
printf '' > "$B/textdir/train/pos/a.txt"
printf '\xff\xfe\000bad' > "$B/textdir/train/neg/b.txt"
cp "$B/textdir/train/pos/a.txt" "$B/textdir/test/pos/"
cp "$B/textdir/train/neg/b.txt" "$B/textdir/test/neg/"
if [ -f ../shared/data/aclImdb_v1.tar.xz ]; then head -c 100000 ../shared/data/aclImdb_v1.tar.xz > "$B/trunc.tar.xz"; else
    tar -cJf "$B/full.tar.xz" -C tests/fixtures imdb_small && head -c 2000 "$B/full.tar.xz" > "$B/trunc.tar.xz"; fi
printf 'text,label\ngood,pos\n"never closed,neg\nmore,pos\n' > "$B/quote.csv"
printf 'text,label\ngood,pos\nno label field\n' > "$B/fields_text.csv"
printf 'text,label\ngood,pos\nbad,\n' > "$B/nolabel.csv"
printf 'text,label\ngood,pos\ncaf\xe9,neg\n' > "$B/latin1.csv"
printf '{"text": "good", "label": "pos"}\n["not", "an", "object"]\n' > "$B/array.jsonl"
printf 'text,label\na,x\nb,y\nc,x\nd,y\ne,x\n' > "$B/five.csv"
printf 'text,label\nf,z\n' > "$B/unseen.csv"
H=tests/fixtures/jena_hourly_4000.csv.gz
run() {
    desc="$1"; shift
    out=$("$@" 2>&1 | grep -v '^ *$' | tail -n 1 | cut -c1-220)
    "$@" > /dev/null 2>&1
    rc=$?
    printf '| %s | `%s` | %d | %s |\n' "$desc" "$(echo "$*" | sed "s|$B/||g; s|build/||")" "$rc" "$(echo "$out" | sed "s|$B/||g; s/|/\\\\|/g")"
}
echo "| bad input | command | exit | last line printed |"
echo "|---|---|---:|---|"
run "empty CSV" "$S" forecast --model dense --data "$B/empty.csv" --out "$B/o"
run "header only" "$S" forecast --model dense --data "$B/header_only.csv" --out "$B/o"
run "NaN value" "$S" forecast --model dense --data "$B/nan.csv" --out "$B/o"
run "Inf value" "$S" forecast --model dense --data "$B/inf.csv" --out "$B/o"
run "malformed number" "$S" forecast --model dense --data "$B/badnum.csv" --out "$B/o"
run "missing field" "$S" forecast --model dense --data "$B/fields.csv" --out "$B/o"
run "duplicate timestamp" "$S" forecast --model dense --data "$B/dup.csv" --out "$B/o"
run "line over 1 MB" "$S" forecast --model dense --data "$B/longline.csv" --out "$B/o"
run "non-UTF-8 bytes where a number belongs" "$S" forecast --model dense --data "$B/nonutf8.csv" --out "$B/o"
run "missing file" "$S" forecast --model dense --data "$B/nope.csv" --out "$B/o"
run "sequence longer than the series" "$S" forecast --model dense --data "$H" --lookback 2000h --out "$B/o"
run "horizon not a whole number of steps" "$S" forecast --model dense --data "$H" --horizon 90min --out "$B/o"
run "zero-length sequence" "$S" forecast --model dense --data "$H" --lookback 0h --out "$B/o"
run "batch larger than the data (clamped, trains)" "$S" forecast --model dense --data "$H" --batch-size 100000 --epochs 1 --out "$B/o" --quiet --no-plots
run "unknown target column" "$S" forecast --model dense --data "$H" --target "X (degC)" --out "$B/o"
run "truncated model file" "$S" predict --model "$B/trunc.seqnn" --text hi
run "wrong magic" "$S" predict --model "$B/magic.seqnn" --text hi
run "wrong version" "$S" predict --model "$B/version.seqnn" --text hi
run "section claiming 2^40 bytes" "$S" predict --model "$B/huge.seqnn" --text hi
run "word vectors: header claiming 2^40 x 100" "$S" embed --vectors "$B/huge.vec" --similar the
run "word vectors: NaN" "$S" embed --vectors "$B/nan.vec" --similar the
run "word vectors: empty file" "$S" embed --vectors "$B/empty.vec" --similar the
run "word vectors: truncated binary" "$S" embed --vectors "$B/short.bin" --similar the
run "spec: unknown keyword" "$S" summary --input-shape 120,14 --model "lstm(16, recurent_dropout=0.2)"
run "spec: unknown layer" "$S" summary --input-shape 120,14 --model "lstn(16)"
run "spec: unbalanced parenthesis" "$S" summary --input-shape 120,14 --model "lstm(16, dense(1)"
run "spec: bad argument value" "$S" summary --input-shape 120,14 --model "dropout(1.5)"
run "spec: shape that does not fit" "$S" summary --input-shape 120 --model "lstm(16)"
run "CLI: unknown option" "$S" forecast --lookbak 12h
run "CLI: bad option value" "$S" classify --model unigram --epochs -3
run "CLI: --threads 0" "$S" --threads 0 summary
run "texts: empty and non-UTF-8 files, too few to split" "$S" classify --data "$B/textdir" --model unigram --epochs 1 --out "$B/o" --quiet --no-plots
run "texts: truncated .tar.xz" "$S" classify --data "$B/trunc.tar.xz" --model unigram --out "$B/o"
run "corpus: CSV quote never closed" "$S" classify --data "$B/quote.csv" --model nb --out "$B/o"
run "corpus: CSV record with a missing field" "$S" classify --data "$B/fields_text.csv" --model nb --out "$B/o"
run "corpus: empty label" "$S" classify --data "$B/nolabel.csv" --model nb --out "$B/o"
run "corpus: Latin-1 bytes read as UTF-8" "$S" classify --data "$B/latin1.csv" --model nb --out "$B/o"
run "corpus: JSONL line that is not an object" "$S" classify --data "$B/array.jsonl" --model nb --out "$B/o"
run "corpus: unknown text column" "$S" classify --data "$B/five.csv" --text-column body --model nb --out "$B/o"
run "corpus: test label the training data lacks" "$S" classify --data "$B/five.csv" --test-data "$B/unseen.csv" --model nb --out "$B/o"
run "corpus: --folds with --test-split" "$S" classify --data "$B/five.csv" --folds 2 --test-split 0.2 --model nb --out "$B/o"
run "vocabulary larger than max_tokens (OOV = 1)" "$S" vectorize --text "a b c d e f g" --max-tokens 4 --top 10
