"""Writes aclImdb's labelled reviews as CSV files for `seqnn classify`:
OUT/train.csv and OUT/test.csv with the columns text, stars (the rating in
the file name <id>_<stars>.txt: 1-4 or 7-10) and sentiment (neg / pos, the
folder). Used for the rating-prediction experiment of docs/results.md:
  /usr/bin/python3 scripts/imdb_to_csv.py ../shared/data/aclImdb_v1.tar.xz /tmp/imdb
  seqnn classify --data /tmp/imdb/train.csv --test-data /tmp/imdb/test.csv --label-column stars --model nb
Rows keep the archive's order within each split."""
import csv, re, sys, tarfile

src, out = sys.argv[1], sys.argv[2]
name = re.compile(r"(?:\./)?aclImdb/(train|test)/(neg|pos)/\d+_(\d+)\.txt$")
rows = {"train": [], "test": []}
with tarfile.open(src) as t:
    for m in t:
        g = name.match(m.name)
        if m.isfile() and g:
            rows[g.group(1)].append((t.extractfile(m).read().decode("utf-8"), g.group(3), g.group(2)))
for split, rs in rows.items():
    with open(f"{out}/{split}.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["text", "stars", "sentiment"])
        w.writerows(rs)
    print(f"{out}/{split}.csv: {len(rs)} reviews")
