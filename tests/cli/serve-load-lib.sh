# serve-load-lib.sh - shared by tests/cli/test-serve-load.sh and
# bench/serve-load.sh: starting `portdex serve` on a random loopback port,
# sampling its resident memory once a second, the wrk script of valid
# requests (random ports, the JSON API, searches; statuses counted by
# class) and the Python client that sends malformed and slow traffic for a
# bounded time and judges every answer.  It owns no assertions of its own
# beyond the attacker's verdict; the callers decide what to check and
# print.  Not a test: the CTest glob takes only test-*.sh.
#
# Needs: python3, wrk.  The caller sets SL_DIR (a private temp directory).

# sl_start PORTDEX DB STATE LOG [serve args...]: starts the server, sets
# SL_PID and SL_URL; returns 1 (with the log on stderr) if no banner came
# within 10 s (60 s when PDX_VALGRIND=1: portdex runs under valgrind).  As
# root the server drops to nobody (--user nobody).
sl_start() {
	local bin=$1 db=$2 state=$3 log=$4 runas=() tries=100 _
	shift 4
	[ "${PDX_VALGRIND:-0}" = 1 ] && tries=600
	[ "$(id -u)" = 0 ] && runas=(--user nobody)
	: > "$log"
	"$bin" --db "$db" --state "$state" serve "${runas[@]}" \
	    --listen 127.0.0.1:0 "$@" 2> "$log" &
	SL_PID=$!
	SL_URL=
	for _ in $(seq "$tries"); do
		SL_URL=$(grep -Eo 'http://127\.0\.0\.1:[0-9]+' "$log" | head -1)
		[ -n "$SL_URL" ] && return 0
		kill -0 "$SL_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "server did not start: $(cat "$log")" >&2
	return 1
}

# sl_rss PID: the process's resident set in KiB (VmRSS), or nothing.
sl_rss() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

# sl_sampler PID OUT MAXSECS: appends "SECOND KIB" to OUT once a second
# while PID lives, at most MAXSECS samples.  Run it in the background.
sl_sampler() {
	local i=0 kb
	while [ "$i" -lt "$3" ] && kill -0 "$1" 2>/dev/null; do
		kb=$(sl_rss "$1")
		[ -n "$kb" ] && echo "$i $kb" >> "$2"
		i=$((i + 1))
		sleep 1
	done
}

# sl_rss_report FILE WARM END: prints the samples on one line and the
# figures start, after warm-up (WARM), end (END) and max, in KiB.
sl_rss_report() {
	awk -v warm="$2" -v end="$3" '
	{ s = s " " $2; if (NR == 1) first = $2; if ($2 > max) max = $2 }
	END {
		printf "rss samples (KiB, 1/s):%s\n", s
		printf "rss start %d KiB, after warm-up %d KiB, end %d KiB, max %d KiB, growth %+d KiB (%+.1f%%)\n",
		    first, warm, end, max, end - warm, warm ? 100 * (end - warm) / warm : 0
	}' "$1"
}

# sl_write_tools DIR: writes DIR/load.lua (wrk) and DIR/attack.py.
sl_write_tools() {
	cat > "$1/load.lua" <<'EOF'
-- Valid requests only: a random port page (some per transport), the JSON
-- API of a random port, and searches for common words.  Every answer is
-- counted by status class per thread; done() adds them up and prints one
-- RESULT line of key=value pairs.
local words = { "ssh", "http", "irc", "domain", "smtp", "kerberos",
	"mysql", "remote+desktop", "x11", "nfs", "ldap", "printer", "git",
	"postgresql", "sync", "time", "mail", "games" }
local threads = {}

setup = function(thread)
	table.insert(threads, thread)
	thread:set("id", #threads)
end

init = function(args)
	math.randomseed(os.time() * 1000 + id)
	c2, c3, c4, c5, cx = 0, 0, 0, 0, 0
end

request = function()
	local r, n = math.random(100), math.random(0, 65535)
	if r <= 55 then
		return wrk.format("GET", "/port/" .. n)
	elseif r <= 62 then
		return wrk.format("GET", "/port/" .. n .. "/tcp")
	elseif r <= 87 then
		return wrk.format("GET", "/api/v1/ports/" .. n)
	elseif r <= 95 then
		return wrk.format("GET", "/search?q=" .. words[math.random(#words)])
	end
	return wrk.format("GET", "/api/v1/search?q=" .. words[math.random(#words)])
end

response = function(status, headers, body)
	if status >= 200 and status < 300 then c2 = c2 + 1
	elseif status >= 300 and status < 400 then c3 = c3 + 1
	elseif status >= 400 and status < 500 then c4 = c4 + 1
	elseif status >= 500 and status < 600 then c5 = c5 + 1
	else cx = cx + 1 end
end

done = function(summary, latency, requests)
	local t = { c2 = 0, c3 = 0, c4 = 0, c5 = 0, cx = 0 }
	for _, th in ipairs(threads) do
		for k, _ in pairs(t) do t[k] = t[k] + (th:get(k) or 0) end
	end
	local e = summary.errors
	io.write(string.format("RESULT requests=%d seconds=%.2f rps=%.1f " ..
	    "p50_us=%d p99_us=%d max_us=%d s2xx=%d s3xx=%d s4xx=%d s5xx=%d " ..
	    "sother=%d status_errors=%d connect=%d read=%d write=%d " ..
	    "timeout=%d\n", summary.requests, summary.duration / 1e6,
	    summary.requests / (summary.duration / 1e6),
	    latency:percentile(50), latency:percentile(99), latency.max,
	    t.c2, t.c3, t.c4, t.c5, t.cx, e.status, e.connect, e.read,
	    e.write, e.timeout))
end
EOF
	cat > "$1/attack.py" <<'EOF'
"""Malformed and slow HTTP clients against one loopback server, for a
bounded time.  Each malformed request goes on a new connection and its
outcome is the status of the answer or "closed" (the server shut the
connection without answering); "timeout" (no answer and no close within
--timeout seconds, more than the server's idle timeout), a 5xx, an answer that is not HTTP, or a class not
allowed for that request is a violation.  Slow clients (one header or
body byte a second), a slow reader (pipelined requests not read for a
while) and idle or half-closed connections run beside it.  Prints a table
and a JSON summary; exits 1 on any violation."""
import argparse
import json
import random
import re
import socket
import sys
import threading
import time
from collections import Counter, defaultdict

STATUS = re.compile(rb"^HTTP/1\.[01] ([0-9]{3})")


def requests(host):
    """(category, name, payload, allowed, flags): allowed is a string of
    status classes ("2", "4") and "c" for a close without an answer.
    Flags: "e" half-closes after sending (input with no end of its own);
    "l" marks a request libmicrohttpd 0.9.75 may leave unanswered until
    the idle timeout (15 s) instead of answering or closing at once: it
    is sent once, on its own, and must be settled within --linger s."""
    h = b"Host: " + host + b"\r\nConnection: close\r\n"

    def req(target, method=b"GET", extra=b"", body=b""):
        return (method + b" " + target + b" HTTP/1.1\r\n" + h + extra +
                b"\r\n" + body)

    rnd = random.Random(6450)
    junk = bytes(b for b in (rnd.randrange(256) for _ in range(3000))
                 if b not in b"\r\n")
    big = 100 * 1024
    vote = b"/port/22/vote"
    r = [
        # Headers beyond the 16 KiB of connection memory.
        ("oversized-header", "one 64 KiB header",
         req(b"/", extra=b"X-Big: " + b"b" * 65536 + b"\r\n"), "4c", ""),
        ("oversized-header", "500 headers of 60 bytes",
         req(b"/", extra=b"".join(b"X-H%d: %s\r\n" % (i, b"h" * 50)
                                  for i in range(500))), "4c", ""),
        ("oversized-header", "20 KiB cookie",
         req(b"/port/22", extra=b"Cookie: " + b"c" * 20480 + b"\r\n"),
         "4c", ""),
        ("oversized-header", "15 KiB header under the limit",
         req(b"/port/22", extra=b"X-Pad: " + b"p" * 15000 + b"\r\n"),
         "24c", ""),
        # Methods the server does not serve.
        ("bad-method", "FOO", req(b"/", b"FOO"), "4c", ""),
        ("bad-method", "CONNECT", b"CONNECT 127.0.0.1:443 HTTP/1.1\r\n" +
         h + b"\r\n", "4c", ""),
        ("bad-method", "TRACE", req(b"/", b"TRACE"), "4c", ""),
        ("bad-method", "PROPFIND", req(b"/port/22", b"PROPFIND"), "4c", ""),
        ("bad-method", "DELETE", req(b"/port/22", b"DELETE"), "4c", ""),
        ("bad-method", "PUT with body", req(b"/port/22", b"PUT",
         b"Content-Length: 5\r\n", b"hello"), "4c", ""),
        ("bad-method", "OPTIONS *", req(b"*", b"OPTIONS"), "4c", ""),
        ("bad-method", "lower-case get", req(b"/", b"get"), "4c", ""),
        ("bad-method", "1000-byte method", req(b"/", b"M" * 1000), "4c", ""),
        ("bad-method", "POST to a page", req(b"/port/22", b"POST",
         b"Content-Length: 0\r\n"), "4c", ""),
        # Percent-encoding that decodes to nothing sensible.  A search
        # for undecodable text is still a search (200 allowed).
        ("bad-percent", "/port/%zz", req(b"/port/%zz"), "4c", ""),
        ("bad-percent", "/port/%", req(b"/port/%"), "4c", ""),
        ("bad-percent", "/port/%2", req(b"/port/%2"), "4c", ""),
        ("bad-percent", "/port/%ff", req(b"/port/%ff"), "4c", ""),
        ("bad-percent", "/port/%00", req(b"/port/%00"), "4c", ""),
        ("bad-percent", "/api/v1/ports/%ff", req(b"/api/v1/ports/%ff"),
         "4c", ""),
        ("bad-percent", "/api/v1/ports/1%C3", req(b"/api/v1/ports/1%C3"),
         "4c", ""),
        ("bad-percent", "/api/v1/ports/%zz", req(b"/api/v1/ports/%zz"),
         "4c", ""),
        ("bad-percent", "/%2e%2e/%2e%2e/etc/passwd",
         req(b"/%2e%2e/%2e%2e/etc/passwd"), "4c", ""),
        ("bad-percent", "/search?q=%", req(b"/search?q=%"), "24c", ""),
        ("bad-percent", "/search?q=%zz", req(b"/search?q=%zz"), "24c", ""),
        ("bad-percent", "/search?q=%ff%fe", req(b"/search?q=%ff%fe"),
         "24c", ""),
        ("bad-percent", "/api/v1/search?q=%ff", req(b"/api/v1/search?q=%ff"),
         "24c", ""),
        ("bad-percent", "/api/v1/search?q=%00%01",
         req(b"/api/v1/search?q=%00%01"), "24c", ""),
        # Query strings far beyond the URL and query limits.
        ("huge-query", "/search?q= 100 KB", req(b"/search?q=" + b"q" * big),
         "4c", ""),
        ("huge-query", "/api/v1/search?q= 100 KB",
         req(b"/api/v1/search?q=" + b"q" * big), "4c", ""),
        ("huge-query", "/port/22? 100 KB", req(b"/port/22?" + b"x" * big),
         "4c", ""),
        ("huge-query", "/search?q= 10 KB", req(b"/search?q=" + b"q" * 10240),
         "4c", ""),
        ("huge-query", "/search?q= 300 B", req(b"/search?q=" + b"q" * 300),
         "4c", ""),
        ("huge-query", "1000 arguments",
         req(b"/search?" + b"&".join(b"a%d=1" % i for i in range(1000))),
         "4c", "l"),
        ("huge-query", "300 arguments",
         req(b"/search?" + b"&".join(b"a%d=1" % i for i in range(300))),
         "4c", "l"),
        # Long paths.
        ("long-url", "/port/ 2000 digits", req(b"/port/" + b"1" * 2000),
         "4c", ""),
        ("long-url", "/port/ 12 KB", req(b"/port/" + b"9" * 12288), "4c", ""),
        ("long-url", "/ 30 KB", req(b"/" + b"a/" * 15360), "4c", ""),
        ("long-url", "/port/ 15 digits", req(b"/port/" + b"1" * 15), "4c", ""),
        ("long-url", "/api/v1/ports/22/ 900 bytes",
         req(b"/api/v1/ports/22/" + b"t" * 900), "4c", ""),
        # Not HTTP, or broken HTTP.
        ("garbage", "3 KB random bytes", junk + b"\r\n\r\n", "4c", "e"),
        ("garbage", "NUL bytes", b"\0" * 500 + b"\r\n\r\n", "4c", "el"),
        ("garbage", "TLS ClientHello",
         bytes.fromhex("16030100c4010000c00303") + junk[:180], "4c", "el"),
        ("garbage", "empty lines only", b"\r\n" * 200, "4c", "el"),
        # libmicrohttpd does not insist on Host (no pedantic checks).
        ("garbage", "HTTP/1.1 without Host",
         b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", "24c", ""),
        ("garbage", "request line only, then EOF", b"GET / HTTP/1.1\r\n",
         "4c", "el"),
        ("garbage", "no version", b"GET /\r\n\r\n", "4c", "e"),
        ("garbage", "NUL in a header", req(b"/", extra=b"X-N: a\0b\r\n"),
         "24c", ""),
        ("garbage", "header without colon", req(b"/", extra=b"NoColon\r\n"),
         "24c", ""),
        ("garbage", "space before colon", req(b"/", extra=b"X-S : v\r\n"),
         "24c", ""),
        ("garbage", "folded header", req(b"/", extra=b"X-F: a\r\n b\r\n"),
         "24c", ""),
        ("garbage", "bare LF line ends",
         b"GET / HTTP/1.1\nHost: x\nConnection: close\n\n", "24c", ""),
        ("garbage", "control bytes in the path", req(b"/port/\x01\x7f\x1b"),
         "4c", ""),
        # Bodies that lie about their length.  Every vote here has a bad
        # choice, so a server that reads it answers 400 at most.
        ("bad-body", "Content-Length -1", req(vote, b"POST",
         b"Content-Length: -1\r\n", b"choice=x"), "4c", "e"),
        ("bad-body", "Content-Length 2^70", req(vote, b"POST",
         b"Content-Length: 1180591620717411303424\r\n"), "4c", "e"),
        ("bad-body", "Content-Length not a number", req(vote, b"POST",
         b"Content-Length: abc\r\n", b"choice=x"), "4c", "e"),
        ("bad-body", "two Content-Lengths", req(vote, b"POST",
         b"Content-Length: 8\r\nContent-Length: 3\r\n", b"choice=x"),
         "4c", "e"),
        ("bad-body", "chunked, bad size", req(vote, b"POST",
         b"Transfer-Encoding: chunked\r\n", b"zz\r\nchoice=x\r\n0\r\n\r\n"),
         "4c", "e"),
        ("bad-body", "chunked, size 2^72", req(vote, b"POST",
         b"Transfer-Encoding: chunked\r\n", b"FFFFFFFFFFFFFFFFFF\r\nx\r\n"),
         "4c", "e"),
        ("bad-body", "chunked and Content-Length", req(vote, b"POST",
         b"Transfer-Encoding: chunked\r\nContent-Length: 8\r\n",
         b"8\r\nchoice=x\r\n0\r\n\r\n"), "4c", "e"),
        ("bad-body", "1 MB vote", req(vote, b"POST",
         b"Content-Length: 1048576\r\n", b"v" * 1048576), "4c", ""),
    ]
    return r


class Attack:
    def __init__(self, a):
        self.a = a
        self.host = a.host.encode()
        self.lock = threading.Lock()
        self.out = defaultdict(Counter)       # "category: name" -> outcomes
        self.allowed = {}
        self.slow = Counter()
        self.violations = []
        self.sent = 0
        self.slowest = Counter()            # "category: name" -> seconds

    def connect(self, src, timeout):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.bind((src, 0))
        s.connect((self.a.host, self.a.port))
        return s

    def exchange(self, payload, flags, timeout=None):
        try:
            s = self.connect(self.a.src, timeout or self.a.timeout)
        except OSError as e:
            return "connect-failed:" + type(e).__name__
        data = b""
        try:
            try:
                s.sendall(payload)
                if "e" in flags:
                    s.shutdown(socket.SHUT_WR)
            except (BrokenPipeError, ConnectionResetError):
                pass        # answered (or closed) before reading it all
            while b"\r\n" not in data and len(data) < 512:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except socket.timeout:
            return "timeout"
        except ConnectionResetError:
            pass
        finally:
            s.close()
        if not data:
            return "closed"
        m = STATUS.match(data)
        return m.group(1).decode() if m else "not-http"

    def judge(self, key, outcome):
        ok = self.allowed[key]
        good = (outcome == "closed" and "c" in ok) or (
            outcome[:1] in "24" and outcome[1:].isdigit() and
            outcome[:1] in ok)
        with self.lock:
            self.out[key][outcome] += 1
            self.sent += 1
            if not good:
                self.violations.append("%s -> %s" % (key, outcome))

    def more(self, deadline):
        """Go on until the deadline and until --min-sent requests were
        answered; past the deadline, for at most --min-wait seconds (a
        slow build under load answers fewer in the same time)."""
        now = time.monotonic()
        if now < deadline:
            return True
        with self.lock:
            short = self.sent < self.a.min_sent
        return short and now < deadline + self.a.min_wait

    def malformed(self, reqs, deadline, seed):
        rnd = random.Random(seed)
        while self.more(deadline):
            order = list(reqs)
            rnd.shuffle(order)
            for cat, name, payload, _, flags in order:
                if not self.more(deadline):
                    break
                if "l" in flags:
                    continue
                key = "%s: %s" % (cat, name)
                t = time.monotonic()
                o = self.exchange(payload, flags)
                t = time.monotonic() - t
                with self.lock:
                    self.slowest[key] = max(self.slowest[key], t)
                    if t > 5:
                        self.slow["late answers (> 5 s): " + key] += 1
                self.judge(key, o)

    def linger(self, cat, name, payload, flags):
        t = time.monotonic()
        o = self.exchange(payload, flags, self.a.linger)
        self.judge("%s: %s" % (cat, name), o)
        self.count("settled within %.0f s: %s: %s -> %s" % (
            time.monotonic() - t + 0.5, cat, name, o))

    def count(self, what):
        with self.lock:
            self.slow[what] += 1

    def slowloris(self, n, secs):
        """n connections send a request one header byte a second, then
        end it; the answer must be a 200 or a close."""
        line = b"X-Slow: 1\r\n"
        socks = []
        for i in range(n):
            try:
                s = self.connect(self.a.slow_src, self.a.timeout)
                s.sendall(b"GET /port/%d HTTP/1.1\r\nHost: x\r\n" % i)
                socks.append(s)
            except OSError:
                self.count("slowloris: connect failed")
        end = time.monotonic() + secs
        k = 0
        while time.monotonic() < end:
            for s in list(socks):
                try:
                    s.send(line[k % len(line):k % len(line) + 1])
                except OSError:
                    self.count("slowloris: closed by the server early")
                    socks.remove(s)
                    s.close()
            k += 1
            time.sleep(1)
        rest = line[k % len(line):] if k % len(line) else b""
        for s in socks:
            try:
                s.sendall(rest + b"Connection: close\r\n\r\n")
                o = self.read_status(s)
            except socket.timeout:
                o = "timeout"
            except OSError:
                o = "closed"
            s.close()
            self.count("slowloris: " + o)
            if o not in ("200", "closed"):
                with self.lock:
                    self.violations.append("slowloris -> " + o)

    def slow_body(self, n, secs):
        """n votes whose 20-byte body comes one byte a second (R.U.D.Y.);
        the choice is bad, so the answer is a 400 (or 408 or a close)."""
        body = b"choice=nope&pad=xxxx"
        socks = []
        for _ in range(n):
            try:
                s = self.connect(self.a.slow_src, self.a.timeout)
                s.sendall(b"POST /port/22/vote HTTP/1.1\r\nHost: x\r\n"
                          b"Connection: close\r\nContent-Length: %d\r\n\r\n"
                          % len(body))
                socks.append(s)
            except OSError:
                self.count("slow body: connect failed")
        end = time.monotonic() + secs
        k = 0
        while time.monotonic() < end and k < len(body) - 1:
            for s in list(socks):
                try:
                    s.send(body[k:k + 1])
                except OSError:
                    self.count("slow body: closed by the server early")
                    socks.remove(s)
                    s.close()
            k += 1
            time.sleep(1)
        for s in socks:
            try:
                s.sendall(body[k:])
                o = self.read_status(s)
            except socket.timeout:
                o = "timeout"
            except OSError:
                o = "closed"
            s.close()
            self.count("slow body: " + o)
            if o not in ("400", "408", "closed"):
                with self.lock:
                    self.violations.append("slow body -> " + o)

    def read_status(self, s):
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        if not data:
            return "closed"
        m = STATUS.match(data)
        return m.group(1).decode() if m else "not-http"

    def slow_reader(self, secs, pages=40):
        """Pipelines pages requests and reads nothing for secs seconds
        (a small receive buffer), then reads every answer."""
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.settimeout(self.a.timeout)
            s.bind((self.a.slow_src, 0))
            s.connect((self.a.host, self.a.port))
            reqs = b"".join(b"GET /port/%d HTTP/1.1\r\nHost: x\r\n\r\n" %
                            (1000 + i) for i in range(pages - 1))
            s.sendall(reqs + b"GET /port/1 HTTP/1.1\r\nHost: x\r\n"
                      b"Connection: close\r\n\r\n")
        except OSError:
            self.count("slow reader: connect failed")
            return
        time.sleep(secs)
        data = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except (socket.timeout, OSError):
            pass
        s.close()
        n = len(re.findall(rb"HTTP/1\.1 200 ", data))
        bad = len(re.findall(rb"HTTP/1\.1 5[0-9][0-9] ", data))
        self.count("slow reader: %d of %d answers 200" % (n, pages))
        if bad:
            with self.lock:
                self.violations.append("slow reader: %d 5xx" % bad)

    def idle(self, n, secs):
        """n connections that send nothing and n/4 that send half a
        request line and half-close; after secs, count which ones the
        server has closed."""
        socks = []
        for i in range(n + n // 4):
            try:
                s = self.connect(self.a.idle_src, self.a.timeout)
                if i >= n:
                    s.sendall(b"GET /por")
                    s.shutdown(socket.SHUT_WR)
                socks.append((s, i >= n))
            except OSError:
                self.count("idle: connect failed")
        time.sleep(secs)
        for s, half in socks:
            s.setblocking(False)
            try:
                d = s.recv(4096)
                state = "answered %s" % d[9:12].decode() if d else "closed"
            except BlockingIOError:
                state = "still open"
            except OSError:
                state = "closed"
            s.close()
            self.count("%s: %s" % ("half-closed" if half else "idle", state))
            if state.startswith("answered 5"):
                with self.lock:
                    self.violations.append("idle -> " + state)

    def run(self):
        a = self.a
        reqs = requests(self.host)
        for cat, name, _, allowed, _ in reqs:
            self.allowed["%s: %s" % (cat, name)] = allowed
        start = time.monotonic()
        deadline = start + a.duration
        slow_secs = max(1, min(a.slow_secs, a.duration - 2))
        th = [threading.Thread(target=self.malformed,
                               args=(reqs, deadline, 6450 + i))
              for i in range(a.workers)]
        th += [threading.Thread(target=self.slowloris,
                                args=(a.slow, slow_secs)),
               threading.Thread(target=self.slow_body,
                                args=(max(1, a.slow // 4), slow_secs)),
               threading.Thread(target=self.slow_reader, args=(slow_secs,)),
               threading.Thread(target=self.idle, args=(a.idle, slow_secs))]
        if a.linger > 0:
            th += [threading.Thread(target=self.linger, args=r[:3] + r[4:])
                   for r in reqs if "l" in r[4]]
        for t in th:
            t.start()
        for t in th:
            t.join()
        return time.monotonic() - start

    def report(self, elapsed):
        cats = defaultdict(Counter)
        for key, c in self.out.items():
            cats[key.split(":")[0]].update(c)
        print("malformed requests: %d in %.1f s" % (self.sent, elapsed))
        for cat in sorted(cats):
            print("  %-17s %s" % (cat, ", ".join(
                "%s %d" % kv for kv in sorted(cats[cat].items()))))
        if self.a.verbose:
            for key in sorted(self.out):
                print("    %-52s %s" % (key, ", ".join(
                    "%s %d" % kv for kv in sorted(self.out[key].items()))))
        print("slowest answers: " + ", ".join(
            "%s %.2f s" % kv for kv in self.slowest.most_common(3)))
        print("slow, idle and lingering clients:")
        for k in sorted(self.slow):
            print("  %-52s %d" % (k, self.slow[k]))
        for v in sorted(set(self.violations)):
            print("VIOLATION: %s (%d times)" % (v, self.violations.count(v)))
        if self.a.json:
            with open(self.a.json, "w") as f:
                json.dump({"sent": self.sent, "seconds": elapsed,
                           "requests": self.out, "slow": self.slow,
                           "violations": self.violations}, f, indent=1)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--duration", type=float, default=10)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--min-sent", type=int, default=0,
                   help="keep sending malformed requests past --duration "
                   "until this many were answered")
    p.add_argument("--min-wait", type=float, default=60,
                   help="the most seconds --min-sent may add")
    p.add_argument("--slow", type=int, default=40)
    p.add_argument("--slow-secs", type=float, default=10)
    p.add_argument("--idle", type=int, default=100)
    # Beyond the server's 15 s idle timeout: libmicrohttpd now and then
    # holds a connection it refused until then, which ends in a close.
    p.add_argument("--timeout", type=float, default=20)
    p.add_argument("--linger", type=float, default=20,
                   help="seconds a lingering request may take; 0: skip them")
    p.add_argument("--src", default="127.0.0.2")
    p.add_argument("--slow-src", default="127.0.0.3")
    p.add_argument("--idle-src", default="127.0.0.4")
    p.add_argument("--json")
    p.add_argument("--verbose", action="store_true")
    p.add_argument("--probe", action="store_true",
                   help="send each malformed request once, print the "
                   "outcome and the time it took, and stop")
    a = p.parse_args()
    atk = Attack(a)
    if a.probe:
        for cat, name, payload, allowed, flags in requests(atk.host):
            t = time.monotonic()
            o = atk.exchange(payload, flags)
            print("%-17s %-36s %-8s %6.2f s (allowed %s)" % (
                cat, name, o, time.monotonic() - t, allowed))
        sys.exit(0)
    atk.report(atk.run())
    sys.exit(1 if atk.violations else 0)


main()
EOF
}
