#!/usr/bin/env bash
# A real browser against portdex serve: headless Chromium (Debian's
# chromium), driven over the DevTools protocol by a small Python script
# (Debian's python3-websocket), loads /, types "irc" into the search box,
# presses Enter, clicks the first result and checks the card shows its
# official section; also that our own Content-Security-Policy blocks
# nothing on our pages and that a phone-sized viewport needs no sideways
# scrolling.  Screenshots go to $PDX_BUILD/artifacts/serve-browser/.
. "$(dirname "$0")/lib.sh"
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
PY=/usr/bin/python3
if [ -z "$CHROMIUM" ]; then
	echo "SKIP: chromium is not installed (Debian package chromium)" >&2
	exit 77
fi
if ! "$PY" -c 'import websocket' 2>/dev/null; then
	echo "SKIP: python3-websocket is not installed" >&2
	exit 77
fi
command -v curl >/dev/null || { echo "SKIP: curl is not installed" >&2; exit 77; }
build_registry
ART=${PDX_BUILD:-$T}/artifacts/serve-browser
rm -rf "$ART"
mkdir -p "$ART"
chmod 755 "$T"
SPID= CPID=
trap '[ -n "$CPID" ] && kill "$CPID" 2>/dev/null; [ -n "$SPID" ] && kill "$SPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT

serve_on_loopback

# The card of the first result, independently: what the CLI finds first.
FIRST=$("$PORTDEX" find irc --json | python3 -c '
import json, sys
print(next(r["port"] for r in json.load(sys.stdin) if r.get("port") is not None))')
OFFICIAL=$("$PORTDEX" show "$FIRST" --json | python3 -c '
import json, sys
print(json.load(sys.stdin)["transports"][0]["service"])')

# Chromium on loopback only: every other host name fails to resolve.
"$CHROMIUM" --headless --no-sandbox --disable-gpu \
    --disable-background-networking --disable-component-update \
    --no-first-run --no-default-browser-check --disable-sync \
    --user-data-dir="$T/chromium" --remote-debugging-port=0 \
    --remote-allow-origins='*' \
    --host-resolver-rules='MAP * ~NOTFOUND, EXCLUDE 127.0.0.1' \
    about:blank 2> "$T/chromium.log" &
CPID=$!
WS=
for _ in $(seq 300); do
	WS=$(grep -Eo 'ws://127\.0\.0\.1:[0-9]+/devtools/browser/[^ ]+' "$T/chromium.log" | head -1)
	[ -n "$WS" ] && break
	kill -0 "$CPID" 2>/dev/null || break
	sleep 0.1
done
[ -n "$WS" ] || { echo "FAIL: chromium did not start: $(tail -5 "$T/chromium.log")" >&2; exit 1; }
DEVTOOLS=${WS%%/devtools/*}
DEVTOOLS=http://${DEVTOOLS#ws://}

OUT=$("$PY" - "$DEVTOOLS" "$URL" "$ART" "$FIRST" <<'EOF' 2> "$T/driver.err"
import base64, json, sys, time, urllib.request
import websocket

devtools, base, art, first = sys.argv[1:5]
targets = json.load(urllib.request.urlopen(devtools + "/json/list", timeout=10))
page = next(t for t in targets if t["type"] == "page")
ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=10,
                                 suppress_origin=True)
seq = 0
events = []

def call(method, **params):
    global seq
    seq += 1
    my = seq
    ws.send(json.dumps({"id": my, "method": method, "params": params}))
    deadline = time.time() + 15
    while time.time() < deadline:
        m = json.loads(ws.recv())
        if m.get("id") == my:
            if "error" in m:
                raise RuntimeError("%s: %s" % (method, m["error"]))
            return m.get("result", {})
        events.append(m)
    raise RuntimeError("no answer to " + method)

def wait_load(what):
    deadline = time.time() + 15
    while time.time() < deadline:
        for i, m in enumerate(events):
            if m.get("method") == "Page.loadEventFired":
                del events[: i + 1]
                return
        events.append(json.loads(ws.recv()))
    raise RuntimeError("page did not load: " + what)

def js(expr):
    r = call("Runtime.evaluate", expression=expr, returnByValue=True)
    return r["result"].get("value")

def shot(name):
    data = call("Page.captureScreenshot", format="png")["data"]
    with open("%s/%s.png" % (art, name), "wb") as f:
        f.write(base64.b64decode(data))

def check(label, ok, detail=""):
    print(("ok " if ok else "FAIL ") + label + ("" if ok else ": " + str(detail)))

call("Page.enable")
call("Runtime.enable")
call("Log.enable")
call("Emulation.setDeviceMetricsOverride", width=1024, height=900,
     deviceScaleFactor=1, mobile=False)

call("Page.navigate", url=base + "/")
wait_load("/")
shot("01-home")
check("home title", "portdex" in (js("document.title") or ""), js("document.title"))
check("style sheet applied",
      js("getComputedStyle(document.body).maxWidth") not in ("none", None),
      js("getComputedStyle(document.body).maxWidth"))

# Type into the search box like a user, then press Enter.
js("document.getElementById('q').focus()")
call("Input.insertText", text="irc")
call("Input.dispatchKeyEvent", type="keyDown", key="Enter", code="Enter",
     windowsVirtualKeyCode=13, text="\r")
call("Input.dispatchKeyEvent", type="keyUp", key="Enter", code="Enter",
     windowsVirtualKeyCode=13)
wait_load("search results")
shot("02-search-irc")
check("search URL", js("location.pathname + location.search") == "/search?q=irc",
      js("location.href"))
n = js("document.querySelectorAll('ul.results li').length") or 0
check("results listed", n > 0, n)

# Click the first result link with the mouse.
box = js("""(() => { const a = document.querySelector('ul.results a');
  a.scrollIntoView(); const r = a.getBoundingClientRect();
  return {x: r.left + r.width / 2, y: r.top + r.height / 2,
          href: a.getAttribute('href')}; })()""")
check("first result links its port", box["href"] == "/port/" + first, box)
for t in ("mousePressed", "mouseReleased"):
    call("Input.dispatchMouseEvent", type=t, x=box["x"], y=box["y"],
         button="left", clickCount=1)
wait_load("card")
shot("03-card")
check("card URL", js("location.pathname") == "/port/" + first, js("location.pathname"))
print("OFFICIAL_H2=" + (js("(document.querySelector('section#official h2') || {}).textContent || ''") or ""))
print("OFFICIAL_TEXT=" + " ".join((js("(document.querySelector('section#official') || {}).innerText || ''") or "").split()))
check("vote buttons", js("document.querySelectorAll('form.vote button').length") == 3)

# A phone: nothing wider than the screen.
call("Emulation.setDeviceMetricsOverride", width=390, height=844,
     deviceScaleFactor=2, mobile=True)
call("Page.reload")
wait_load("card on a phone")
shot("04-card-phone")
sw = js("document.documentElement.scrollWidth")
check("no sideways scrolling on a phone", sw is not None and sw <= 390, sw)

# The pages of 20 ports at a phone's and a desktop's width: the document
# is never wider than the viewport (long source links wrap).
PORTS = [22, 53, 80, 443, 445, 545, 644, 645, 945, 1644, 2049, 3389, 5432,
         6443, 8080, 9092, 9200, 502, 51820, 50050]
for width, mobile in ((390, True), (1280, False)):
    call("Emulation.setDeviceMetricsOverride", width=width, height=844,
         deviceScaleFactor=1, mobile=mobile)
    for p in PORTS:
        call("Page.navigate", url="%s/port/%d" % (base, p))
        wait_load("port %d at %d px" % (p, width))
        shot("width-%d-port-%d" % (width, p))
        sw = js("document.documentElement.scrollWidth")
        check("port %d at %d px: no horizontal overflow" % (p, width),
              sw is not None and sw <= width, sw)
check("vote buttons need no emoji font",
      all(ord(c) < 128 for c in (js("Array.from(document.querySelectorAll("
          "'form.vote button')).map(b => b.textContent).join('')") or "x")))

# Our CSP must not have blocked anything on our own pages.
deadline = time.time() + 0.5
ws.settimeout(0.5)
try:
    while time.time() < deadline:
        events.append(json.loads(ws.recv()))
except Exception:
    pass
csp = [m for m in events if m.get("method") == "Log.entryAdded" and
       "Content Security Policy" in m["params"]["entry"].get("text", "")]
check("no CSP violations", not csp, csp[:2])
ws.close()
EOF
) || fail "browser driver failed: $(tail -5 "$T/driver.err")"
printf '%s\n' "$OUT"
while IFS= read -r line; do
	case $line in
	"ok "*) pass ;;
	"FAIL "*) fail "${line#FAIL }" ;;
	esac
done <<< "$OUT"
expect_match "official section heading" "^OFFICIAL_H2=Official \(IANA\)$" "$(printf '%s\n' "$OUT" | grep '^OFFICIAL_H2=')"
expect_match "official section shows the service" "Service $OFFICIAL" "$(printf '%s\n' "$OUT" | grep '^OFFICIAL_TEXT=')"
for f in 01-home 02-search-irc 03-card 04-card-phone; do
	if [ -s "$ART/$f.png" ] && [ "$(head -c 4 "$ART/$f.png" | tail -c 3)" = PNG ]; then pass; else fail "screenshot $f.png missing"; fi
done
expect_match "requests were logged" '"GET /search\?q=irc HTTP/1.1" 200' "$(cat "$T/serve.log")"
kill "$CPID" 2>/dev/null; wait "$CPID" 2>/dev/null; CPID=
kill -TERM "$SPID"; SRC=0; wait "$SPID" || SRC=$?; SPID=
expect_eq "server exit" 0 "$SRC"
echo "screenshots: $ART"
finish
