"""Writes the small labelled corpora of tests/fixtures/corpus (committed):
topics.csv, topics.tsv, topics.jsonl -- the same 120 short texts in three
formats, three classes (sport, tech, food) with a few words of each class
and shared filler words, some texts with commas, quotes and a newline
inside; tags.csv -- 60 texts with one or two labels ("sport|food") for the
multi-label path. Deterministic (seeded); run with /usr/bin/python3 from
the repository root."""
import csv, json, random

rng = random.Random(12)
words = {
    "sport": "goal match team score league coach player stadium win referee".split(),
    "tech": "software chip laptop code network server phone battery robot cloud".split(),
    "food": "pasta soup bread cheese recipe spicy dinner salad oven tasty".split(),
}
filler = "the a of and today really very new old this that with".split()

def text(labels):
    toks = []
    for _ in range(rng.randint(5, 12)):
        toks.append(rng.choice(words[rng.choice(labels)]) if rng.random() < 0.35 else rng.choice(filler))
    s = " ".join(toks)
    r = rng.random()
    if r < 0.1: s = s.replace(" ", ", ", 1)          # an embedded delimiter
    elif r < 0.15: s = s + ' "quoted"'               # embedded quotes
    elif r < 0.18: s = s.replace(" ", "\n", 1)       # an embedded newline (CSV / JSONL only)
    return s

classes = ["sport", "tech", "food"]
rows = [(text([c]), c) for c in classes for _ in range(40)]
rng.shuffle(rows)
base = "tests/fixtures/corpus/"
with open(base + "topics.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["id", "text", "label"])
    for i, (t, c) in enumerate(rows): w.writerow([i, t, c])
with open(base + "topics.tsv", "w", newline="") as f:
    w = csv.writer(f, delimiter="\t", lineterminator="\n")
    w.writerow(["label", "text"])
    for t, c in rows: w.writerow([c, t.replace("\n", " ")])
with open(base + "topics.jsonl", "w") as f:
    for t, c in rows: f.write(json.dumps({"text": t, "label": c}) + "\n")
with open(base + "tags.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["text", "tags"])
    for _ in range(60):
        ls = rng.sample(classes, rng.choice([1, 1, 2]))
        w.writerow([text(ls), "|".join(ls)])
