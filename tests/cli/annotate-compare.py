#!/usr/bin/env python3
# annotate-compare.py SAMPLE EXPECT JSONL [SAMPLE EXPECT JSONL...] - used
# by test-annotate.sh: compares `portdex annotate --jsonl` output (JSONL)
# for a sample of tests/annotate/ with its expectation file
# ("LINE PORT/PROTO ROLE IANA-NAME", see the README there), and checks
# that every object carries its input line unchanged.  Prints one line per
# difference; exits 1 if there is any.
import json
import sys

bad = 0
args = sys.argv[1:]
for k in range(0, len(args), 3):
    sample, expect, jsonl = args[k:k + 3]
    name = sample.rsplit("/", 1)[-1]
    want = [r.split() for r in open(expect) if r.strip()]
    lines = open(sample, encoding="utf-8").read().split("\n")[:-1]
    got = []
    objs = [json.loads(r) for r in open(jsonl)]
    if [o["line"] for o in objs] != lines:
        print("%s: the lines of --jsonl are not the input's" % name)
        bad = 1
    for n, o in enumerate(objs, 1):
        for a in o["annotations"]:
            proto = a["proto"] if a["proto_known"] else "?"
            got.append([str(n), "%d/%s" % (a["port"], proto),
                        a["role"] or "-", a["iana_name"] or "-"])
    for i in range(max(len(want), len(got))):
        w = want[i] if i < len(want) else None
        g = got[i] if i < len(got) else None
        if w is not None and g is not None and w[:3] == g[:3] and \
                (w[3] == "*" or w[3] == g[3]):
            continue
        print("%s: expected %s, got %s" % (name, " ".join(w) if w else
              "nothing", " ".join(g) if g else "nothing"))
        bad = 1
sys.exit(bad)
