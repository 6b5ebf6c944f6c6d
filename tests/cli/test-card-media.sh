#!/usr/bin/env bash
# The card in its three media, from one model: golden files for the five
# seed ports and 15 others (text at 80 and 120 columns, JSON, HTML), and,
# for 200 random ports, every fact of the model found in both the text
# card and the web page (no drift is possible between the emitters).
# The live "on this machine" part is left out of both comparisons: it is
# this machine's, not the card's.  PDX_GOLDEN_UPDATE=1 rewrites the
# golden files (after a deliberate change of data or wording; review the
# diff).
# As root it runs in a network namespace of its own (loopback only): what
# listens on the golden ports on the host (a web server on 8080) would
# otherwise change the cards' summaries.
if [ "$(id -u)" = 0 ] && [ -z "${PDX_OWN_NETNS:-}" ] &&
    unshare -n true 2>/dev/null; then
	exec unshare -n env PDX_OWN_NETNS=1 bash -c \
	    'ip link set lo up && exec bash "$0"' "$0"
fi
. "$(dirname "$0")/lib.sh"
build_registry
GOLDEN=$PDX_SRCDIR/tests/golden
chmod 755 "$T"
SPID=
trap '[ -n "$SPID" ] && kill "$SPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
serve_on_loopback

OUT=$(python3 - "$PORTDEX" "$URL" "$GOLDEN" "${PDX_GOLDEN_UPDATE:-0}" <<'EOF' 2>&1
import html, json, os, random, re, subprocess, sys, urllib.request

portdex, base, golden, update = sys.argv[1:5]
update = update == "1"
env = dict(os.environ, NO_COLOR="1")

def cli(*args, columns=80):
    e = dict(env, COLUMNS=str(columns))
    return subprocess.run([portdex, *args], env=e, capture_output=True,
                          text=True, check=True).stdout

def page(port):
    with urllib.request.urlopen("%s/port/%d" % (base, port), timeout=10) as r:
        return r.read().decode()

def norm(s):
    return " ".join(s.split())

def page_text(h):
    h = re.sub(r"<section id=\"local\">.*?</section>", "", h, flags=re.S)
    return norm(html.unescape(re.sub(r"<[^>]+>", " ", h)))

def strip_local_text(t):
    # the ON THIS MACHINE section, up to the next heading
    return re.sub(r"\nON THIS MACHINE\n.*?(?=\n[A-Z][A-Z ()]+\n|\Z)", "\n",
                  t, flags=re.S)

def check(label, ok, detail=""):
    print(("ok " if ok else "FAIL ") + label + ("" if ok else ": " + str(detail)[:300]))

def facts(card):
    """Every fact of the model a reader must find in every medium."""
    f = [card["headline"]["text"], card["summary"][:-1]]
    for t in card["transports"]:
        for row in t["iana"]:
            for k in ("service_name", "description", "assignee", "contact",
                      "registration_date", "modification_date", "reference",
                      "unauthorized_use", "notes"):
                if row.get(k):
                    f.append(row[k])
        if t.get("nmap") and t["nmap"]["frequency"] > 0:
            f.append("%.6f" % t["nmap"]["frequency"])
        for r in t.get("risk", {}).get("reasons", []):
            f.append(r["rule"])
    for u in card.get("uses", []):
        f += [u["name"], u["text"]]
    for r in card.get("related", []):
        f.append(r["reason"])
    f.append(card["range"]["label"])
    return [norm(x) for x in f if x and norm(x)]

def api(port):
    with urllib.request.urlopen("%s/api/v1/ports/%d" % (base, port), timeout=10) as r:
        return json.load(r)

# ---- 200 random ports: the same facts in text and HTML -----------------
rng = random.Random(14)
ports = rng.sample(range(65536), 200)
missing = []
nfacts = 0
for p in ports:
    card = api(p)
    nfacts += len(facts(card))
    text = norm(strip_local_text(cli("show", str(p), columns=100)))
    web = page_text(page(p))
    for fact in facts(card):
        for medium, body in (("text", text), ("html", web)):
            if fact not in body:
                missing.append((p, medium, fact[:80]))
check("200 random ports: all %d facts in text and HTML" % nfacts,
      not missing and nfacts > 1000, missing[:5])

# ---- golden files ------------------------------------------------------
GOLD = [545, 644, 645, 945, 1644, 22, 53, 80, 443, 445, 502, 2049, 3389,
        5432, 6443, 8080, 9092, 9200, 50050, 51820]

def body_json(p):
    c = json.loads(cli("--json", "show", str(p)))
    c.pop("local", None)
    c.pop("notes", None)
    c["summary"] = c["summary"].rsplit(";", 1)[0]	# its last clause is local
    c["range"].pop("ephemeral", None)
    return json.dumps(c, indent=1, sort_keys=True) + "\n"

def body_html(p):
    h = page(p)
    h = re.sub(r"<section id=\"local\">.*?</section>\n", "", h, flags=re.S)
    h = re.sub(r"portdex [0-9][^ <]*", "portdex VERSION", h)
    return re.sub(r"<p>(In|Out)side this kernel's ephemeral range [^<]*</p>\n", "", h)

def body_text(p, cols):
    t = strip_local_text(cli("show", str(p), columns=cols))
    t = re.sub(r"^ *(In|Out)side this kernel's ephemeral range.*\n", "", t, flags=re.M)
    # the summary's last clause says what listens here
    return re.sub(r"; nothing listens on it here\s+now\.", ".", t)

os.makedirs(golden, exist_ok=True)
bad = []
for p in GOLD:
    for ext, make in (("80.txt", lambda p: body_text(p, 80)),
                      ("120.txt", lambda p: body_text(p, 120)),
                      ("json", body_json), ("html", body_html)):
        path = "%s/%d.%s" % (golden, p, ext)
        got = make(p)
        if update:
            open(path, "w").write(got)
            continue
        want = open(path).read() if os.path.exists(path) else None
        if want != got:
            bad.append(path)
            with open(path + ".got", "w") as f:
                f.write(got)
check("golden cards (20 ports, text 80/120, JSON, HTML)", not bad,
      "differ (see *.got beside them): %s" % bad[:4])
EOF
) || fail "driver failed: $OUT"
printf '%s\n' "$OUT" | grep -v '^ok ' | head -20
while IFS= read -r line; do
	case $line in
	"ok "*) pass ;;
	"FAIL "*) fail "${line#FAIL }" ;;
	esac
done <<< "$OUT"
[ "$checks" -ge 2 ] || fail "the driver reported nothing"
finish
