#!/usr/bin/env python3
"""csv-compare.py ROWS CSV JSON [IGNORE...] - checks portdex's --format csv
against its JSON output of the same command, field by field, with the rows
and flattening docs/json.md ("CSV") describes, written again here from that
description: ROWS names the member arrays giving the rows ("-": the
document, or each element of an array, is a row; "annotate": annotate's
rule, rows of a line's annotations).  JSON is one document, or JSON lines
(one document each).  IGNORE: columns whose values may differ between the
two runs (a time; shell patterns).  Prints what differs; exit 1 then."""
import csv
import fnmatch
import json
import sys


def flatten(flat, prefix, v):
    if isinstance(v, dict) and v:
        for k, x in v.items():
            flatten(flat, prefix + "." + k, x)
    else:
        flat[prefix] = v


def row_of(carry, v):
    flat = dict(carry) if carry else {}
    if isinstance(v, dict):
        for k, x in v.items():
            flatten(flat, k, x)
    else:
        flat["value"] = v
    return flat


def rows_of(doc, rows, out):
    if isinstance(doc, list):
        for x in doc:
            rows_of(x, rows, out)
        return
    if not isinstance(doc, dict) or not rows:
        out.append(row_of(None, doc))
        return
    carry = {k: x for k, x in doc.items() if not isinstance(x, (dict, list))}
    found = False
    for name in rows.split(","):
        if isinstance(doc.get(name), list):
            found = True
            for x in doc[name]:
                out.append(row_of(carry, x))
    if not found:
        out.append(row_of(None, doc))


def columns(rows):
    cols, allnull = [], {}
    for r in rows:
        for k, v in r.items():
            if k not in allnull:
                cols.append(k)
                allnull[k] = v is None
            elif v is not None:
                allnull[k] = False
    return [c for c in cols if not (allnull[c] and
            any(o.startswith(c + ".") for o in cols))]


def same(cell, v):
    if v is None:
        return cell == ""
    if isinstance(v, bool):
        return cell == ("true" if v else "false")
    if isinstance(v, str):
        return cell == v
    if isinstance(v, int):
        return cell == str(v)
    if isinstance(v, float):
        return float(cell) == v
    return json.loads(cell) == v


def main():
    mode, csvfile, jsonfile = sys.argv[1:4]
    ignore = set(sys.argv[4:])
    text = open(jsonfile, encoding="utf-8").read()
    try:
        docs = [json.loads(text)]
    except ValueError:
        docs = [json.loads(l) for l in text.splitlines() if l.strip()]
    rows = []
    for d in docs:
        if mode == "annotate":
            rows_of(d, "annotations" if d["annotations"] else None, rows)
        else:
            rows_of(d, None if mode == "-" else mode, rows)
    with open(csvfile, newline="", encoding="utf-8") as f:
        raw = f.read()
    got = list(csv.reader(raw.splitlines(keepends=True), strict=True))
    bad = []
    if rows and not raw.endswith("\r\n"):
        bad.append("lines do not end in CRLF")
    if not rows:
        if got:
            bad.append("no rows expected, got %r" % got[:2])
    else:
        header, body = got[0], got[1:]
        if mode in ("annotate", "stream"):
            # a fixed header: every value must have its column
            for r in rows:
                for k, v in r.items():
                    if v is not None and k not in header and \
                            not (mode == "annotate" and k == "annotations"):
                        bad.append("no column for %s=%r" % (k, v))
        elif header != columns(rows):
            bad.append("header %r, expected %r" % (header, columns(rows)))
        if len(body) != len(rows):
            bad.append("%d rows, expected %d" % (len(body), len(rows)))
        for i, (cells, r) in enumerate(zip(body, rows)):
            if len(cells) != len(header):
                bad.append("row %d: %d cells for %d columns" %
                           (i + 1, len(cells), len(header)))
                continue
            for c, cell in zip(header, cells):
                if any(fnmatch.fnmatchcase(c, p) for p in ignore):
                    continue
                if not same(cell, r.get(c)):
                    bad.append("row %d %s: %r, JSON has %r" %
                               (i + 1, c, cell, r.get(c)))
    for b in bad[:20]:
        print(b)
    if not bad:
        print("%d rows, %d columns agree" % (len(rows),
              len(got[0]) if got else 0))
    sys.exit(1 if bad else 0)


main()
