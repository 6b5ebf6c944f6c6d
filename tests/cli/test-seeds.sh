#!/usr/bin/env bash
# The card of each seed port (545, 644, 645, 945, 1644) holds the facts of
# its seed article, field by field in --json: the IANA assignment (the CSV
# parsed here with python3's csv module), every use the article reports
# (the article is read to confirm it names the use) with its confidence
# and source, beside what IANA says; the related ports the article names;
# and the risk level and reasons, derived here from the rule conditions
# of docs/risk.md applied to the CSV and data/uses/.
. "$(dirname "$0")/lib.sh"
build_registry
command -v python3 >/dev/null || { echo "SKIP: python3 is needed" >&2; exit 77; }
SEEDS=$SHARED/seeds
if [ ! -d "$SEEDS" ]; then
	echo "SKIP: $SEEDS not found (the shared seed articles)" >&2
	exit 77
fi

for p in 545 644 645 945 1644; do
	"$PORTDEX" "$p" --json > "$T/$p.json" || fail "card $p"
done

python3 - "$T" "$IANA" "$SEEDS" "$PDX_SRCDIR/data/uses" > "$T/result" <<'EOF'
import csv, json, os, re, sys

tdir, iana_path, seeds, uses_path = sys.argv[1:5]

def report(ok, what, detail=''):
    print(('PASS ' if ok else 'FAIL ') + what + ('' if ok else ': ' + detail))

# The seed article of a port: the file that names the port most often.
articles = {}
for f in sorted(os.listdir(seeds)):
    articles[f] = open(os.path.join(seeds, f), encoding='utf-8').read()
def article(port):
    best = max(articles, key=lambda f: len(re.findall(r'\b%d\b' % port, articles[f])))
    return articles[best]

# IANA rows covering a port, per transport.
iana = []
with open(iana_path, newline='', encoding='utf-8') as f:
    rd = csv.reader(f)
    next(rd)
    for r in rd:
        if len(r) >= 12 and r[1].strip():
            lo, _, hi = r[1].strip().partition('-')
            iana.append((int(lo), int(hi or lo), r))
def iana_rows(port, proto):
    return [r for lo, hi, r in iana if lo <= port <= hi and r[2] in ('', proto)]
def iana_status(rows):
    if any(r[0] and '(historic)' not in r[3] for r in rows):
        return 'assigned'
    if any(r[0] for r in rows) or any('[was ' in r[3] for r in rows):
        return 'historic'
    d = ' '.join(r[3].lower() for r in rows)
    if d.startswith('reserved'):
        return 'reserved'
    return 'unassigned'

# uses.tsv rows covering a port.
uses = []
import glob
for line in (l for fn in sorted(glob.glob(uses_path + '/*.tsv')) for l in open(fn, encoding='utf-8')):
    if line.startswith('#') or line.startswith('port\t') or not line.strip():
        continue
    c = line.rstrip('\n').split('\t')
    lo, _, hi = c[0].partition('-')
    uses.append(dict(lo=int(lo), hi=int(hi or lo), protos=c[1].split(','),
                     kind=c[2], name=c[3], conf=c[6], source=c[8]))

# What each article reports: (a word the article must contain, a pattern
# the card's use must match in its name or text, the platform if any).
SEED_USES = {
    645: [('DirectPlay', r'DirectPlay', None),
          ('eDirectory', r'eDirectory', None),
          ('Distributed Interactive Simulation', r'Distributed Interactive Simulation|\bDIS\b', None),
          ('trojan', r'trojan', 'malware')],
    1644: [('IRC', r'\bIRC\b|Internet Relay Chat', None)],
    545: [('QuickTime Conferencing', r'QuickTime Conferencing', None)],
    945: [('ipcserver', r'ipcserver', None), ('NetInfo', r'NetInfo', None)],
    644: [('mount', r'\bmount', None)],
}
SEED_PLATFORM = {644: 'macOS', 945: 'Mac OS X', 545: 'Mac OS'}
# Related ports the brief and the articles name: (lo, hi).
SEED_RELATED = {
    644: [(111, 111), (2049, 2049), (635, 635)],
    545: [(554, 554), (5060, 5060), (443, 443)],
    1644: [(194, 194), (6665, 6669), (6697, 6697)],
    645: [(646, 646), (389, 389)],
    945: [(111, 111), (389, 389)],
}
LEVELS = ['none', 'info', 'low', 'medium', 'high']
RULE_LEVEL = {'malware-port': 'high', 'malware-reported': 'low',
              'no-living-service': 'medium', 'obsolete-service': 'medium',
              'iana-unauthorized-use': 'low', 'privileged-range': 'info'}

for port in sorted(SEED_USES):
    card = json.load(open(os.path.join(tdir, '%d.json' % port)))
    text = article(port)
    report(card.get('port') == port, '%d: card port' % port, str(card.get('port')))
    trs = {t['transport']: t for t in card['transports']}

    # Official (IANA), per transport.
    for proto in ('tcp', 'udp'):
        rows = iana_rows(port, proto)
        t = trs.get(proto)
        if t is None:
            report(False, '%d/%s: transport in card' % (port, proto), 'missing')
            continue
        st = iana_status(rows)
        report(t['status'] == st, '%d/%s: status' % (port, proto), '%s != %s' % (t['status'], st))
        want = sorted((r[0], r[3], r[4]) for r in rows)
        got = sorted((e['service_name'], e['description'], e['assignee'])
                     for e in t['iana'] if e.get('source', 'iana') == 'iana')
        report(got == want, '%d/%s: IANA rows' % (port, proto), '%s != %s' % (got, want))
        names = [r[0] for r in rows if r[0]]
        report((t['service'] or '') == (names[0] if names else ''),
               '%d/%s: service' % (port, proto), '%r vs %r' % (t['service'], names))

    # In practice: every use the article reports.
    iana_names = {r[0].lower() for p in ('tcp', 'udp') for r in iana_rows(port, p) if r[0]}
    for word, pat, kind in SEED_USES[port]:
        report(re.search(word, text, re.I) is not None,
               '%d: the article reports %s' % (port, word), 'not in the article')
        hits = [u for u in card['uses'] if re.search(pat, u['name'] + ' ' + u['text'], re.I)]
        if not hits:
            report(False, '%d: use %s in the card' % (port, word), 'no use matches /%s/' % pat)
            continue
        report(True, '%d: use %s in the card' % (port, word))
        u = hits[0]
        # Backed only by the article (and IANA's own entry): reported.
        srcs = [s.strip() for s in u['source'].split(';')]
        seed_only = all(s.startswith('seed:') or s.startswith('IANA registry') for s in srcs)
        report('seed:%d' % port in srcs, '%d: %s cites its seed' % (port, word), u['source'])
        if seed_only:
            report(u['confidence'] == 'reported', '%d: %s is reported' % (port, word), u['confidence'])
        if kind:
            report(u['kind'] == kind, '%d: %s kind' % (port, word), u['kind'])
        report(set(u['transports']) >= {'tcp'}, '%d: %s transports' % (port, word), str(u['transports']))
        # Shown beside IANA: the card has IANA's entry, and a use that
        # disagrees with it says what IANA says.
        if kind != 'malware':
            says = [n for n in iana_names if n in u['text'].lower()] or \
                   (['unassigned'] if not iana_names and 'unassigned' in u['text'].lower() else [])
            report(bool(says), '%d: %s shown beside IANA' % (port, word),
                   'text does not name IANA\'s %s: %s' % (sorted(iana_names) or 'unassigned', u['text']))
    if port in SEED_PLATFORM:
        report(any(SEED_PLATFORM[port] in u['platform'] for u in card['uses']),
               '%d: platform %s' % (port, SEED_PLATFORM[port]), str([u['platform'] for u in card['uses']]))

    # Related ports.
    for lo, hi in SEED_RELATED[port]:
        report(re.search(r'\b%d\b' % hi, text) is not None,
               '%d: the article names %d' % (port, hi), 'not in the article')
        r = [x for x in card['related'] if x['port'] == lo and x['port_hi'] == hi]
        report(len(r) == 1, '%d: related %d-%d' % (port, lo, hi), str(card['related']))
        if r:
            report(bool(r[0]['reason']), '%d: related %d has a reason' % (port, lo))
            report(r[0]['source'] == 'seed:%d' % port, '%d: related %d source' % (port, lo), r[0]['source'])

    # Risk: the rules of docs/risk.md applied to the CSV and uses.tsv.
    worst = 0
    for proto in ('tcp', 'udp'):
        rows = iana_rows(port, proto)
        st = iana_status(rows)
        mine = [u for u in uses if u['lo'] <= port <= u['hi'] and proto in u['protos']]
        want = set()
        if port < 1024:
            want.add('privileged-range')
            if st != 'assigned':
                want.add('no-living-service')
        if any(r[10].strip() for r in rows):
            want.add('iana-unauthorized-use')
        doc_mal = any(u['kind'] == 'malware' and u['conf'] == 'documented' for u in mine)
        if doc_mal:
            want.add('malware-port')
        elif any(u['kind'] == 'malware' for u in mine):
            want.add('malware-reported')
        names = {r[0] for r in rows if r[0]}
        if port < 1024 and st == 'assigned' and any(
                u['kind'] == 'historic' and re.search(r'IANA registry (%s) ' % '|'.join(map(re.escape, names)), u['source'])
                for u in mine if names):
            want.add('obsolete-service')
        t = trs[proto]
        got = {r['rule'] for r in t['risk']['reasons']}
        report(got == want, '%d/%s: risk reasons' % (port, proto), '%s != %s' % (sorted(got), sorted(want)))
        for r in t['risk']['reasons']:
            if r['rule'] in RULE_LEVEL:
                report(r['level'] == RULE_LEVEL[r['rule']], '%d/%s: %s level' % (port, proto, r['rule']), r['level'])
            report(len(r.get('text', '')) > 20, '%d/%s: %s explained' % (port, proto, r['rule']))
        level = max([LEVELS.index(RULE_LEVEL.get(w, 'none')) for w in want] + [0])
        worst = max(worst, level)
        report(t['risk']['level'] == LEVELS[level], '%d/%s: risk level' % (port, proto),
               '%s != %s' % (t['risk']['level'], LEVELS[level]))
    report(card['risk']['level'] == LEVELS[worst], '%d: card risk level' % port,
           '%s != %s' % (card['risk']['level'], LEVELS[worst]))
EOF
rc=$?
expect_eq "seed checker ran" 0 "$rc"
while read -r verdict rest; do
	case $verdict in
	PASS) pass ;;
	FAIL) fail "$rest" ;;
	*) fail "checker said: $verdict $rest" ;;
	esac
done < "$T/result"
expect_match "enough field checks" "^[0-9]{3}" "$(grep -c '^PASS' "$T/result")"

# The text card shows the reported uses beside the official entry.
for spec in "645:pssc:DirectPlay" "644:dwr:mount" "1644:saiseh:IRC" \
    "545:appleqtcsrvr:QuickTime Conferencing" "945:unassigned:ipcserver"; do
	IFS=: read -r p name use <<< "$spec"
	run_rc "$PORTDEX" "$p"
	expect_eq "text $p exit" 0 "$RC"
	expect_match "text $p official" "OFFICIAL \(IANA\)" "$OUT"
	expect_match "text $p IANA says $name" "$name" "$OUT"
	expect_match "text $p in practice $use" "IN PRACTICE[^@]*$use" "$(printf '%s' "$OUT" | tr '\n' ' ')"
	expect_match "text $p reported" "reported" "$OUT"
done
finish
