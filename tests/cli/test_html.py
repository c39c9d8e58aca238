#!/usr/bin/env python3
"""Tests of the `ctxpack stats --html` page (src/cli/html_report.c), rendered
by tests/tools/html_render from a context built here and a synthetic stats
document: nothing is fetched from the network, the page parses, hostile
names (a "</script>", bytes that are not UTF-8) stay data, the embedded
tree adds up, and in headless Chromium the scripts fill the totals and
draw the treemap (the DOM after scripts ran, and a screenshot decoded
here).  The colours by use (read by the build / sent, read by nothing /
excluded) are checked on pages `ctxpack stats --html` writes itself, the
flags stats computed from the Dockerfile.  TAP output; the Chromium checks
are reported as `# SKIP` when no Chromium is installed.

usage: test_html.py PATH_TO_HTML_RENDER PATH_TO_CTXPACK"""
import html.parser
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import traceback
import zlib

RENDER = os.path.abspath(sys.argv[1])
CTXPACK = os.path.abspath(sys.argv[2])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402
check, skip = tap.check, tap.skip


def human(n):
    """The page's human-readable size (html_report.js human())."""
    if n < 1024:
        return "%d B" % n
    units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
    u = 0
    x = float(n)
    while x >= 1024 and u < len(units) - 1:
        x /= 1024
        u += 1
    return ("%.2f" if x < 10 else "%.1f" if x < 100 else "%.0f") % x + " " + units[u]


EVIL_DIR = "evil<"
EVIL_FILE = "script><img src=x onerror=\"document.title='pwned'\">.txt"
LATIN1 = b"caf\xe9.txt"

# path -> (size, sent)
FILES = {
    "Dockerfile": (31, True),
    ".dockerignore": (0, True),  # filled in below
    "src/app.js": (30011, True),
    "src/lib/util.js": (8017, True),
    "README.md": (1203, True),
    "node_modules/pkg/index.js": (200003, False),
    "node_modules/pkg/lib/deep.js": (100009, False),
    "node_modules/other/x.js": (5003, False),
    "build/out.bin": (50021, False),
    "build/keep.txt": (20011, True),
    "app.log": (7001, False),
    EVIL_DIR + "/" + EVIL_FILE: (12007, True),
}
IGNORE = b"node_modules\nbuild\n!build/keep.txt\n*.log\n"
MANY = 150  # files in many/, more than a directory shows one by one


def make_tree(d):
    files = dict(FILES)
    files[".dockerignore"] = (len(IGNORE), True)
    for i in range(MANY):
        files["many/f%03d.txt" % i] = (100 + i, True)
    for path, (size, _) in files.items():
        full = os.path.join(d, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(IGNORE if path == ".dockerignore" else
                    b"FROM scratch\nCOPY . /app\nRUN x\n"[:size] if path == "Dockerfile" else
                    (b"x" * size))
    with open(os.path.join(os.fsencode(d), LATIN1), "wb") as f:
        f.write(b"y" * 10007)
    files[LATIN1.decode("utf-8", "surrogateescape")] = (10007, True)
    return files


def stats_doc(d, files):
    sent = {p: s for p, (s, ok) in files.items() if ok}
    excl = {p: s for p, (s, ok) in files.items() if not ok}
    scanned_bytes = sum(s for s, _ in files.values())
    evil = EVIL_DIR + "/" + EVIL_FILE
    return {
        "version": 1, "context": d + "/ctx</script>\u2028", "builder": "buildkit",
        "dockerfile": "Dockerfile", "ignore_file": ".dockerignore",
        "scanned": {"entries": len(files) + 9, "files": len(files), "dirs": 9, "other": 0,
                    "bytes": scanned_bytes},
        "sent": {"entries": len(sent) + 5, "files": len(sent), "dirs": 5, "other": 0,
                 "bytes": sum(sent.values()), "tar_bytes": 512 * 400},
        "excluded": {"entries": len(excl) + 4, "files": len(excl), "bytes": sum(excl.values())},
        "reduction": {"bytes_pct": round(100.0 * sum(excl.values()) / scanned_bytes, 1),
                      "files_pct": round(100.0 * len(excl) / len(files), 1)},
        "rules": [
            {"index": 0, "source": ".dockerignore", "line": 1, "pattern": "node_modules",
             "exception": False, "excluded_files": 3, "excluded_bytes": 305015,
             "included_files": 0, "included_bytes": 0, "decided": 1, "dead": False},
            {"index": 1, "source": ".dockerignore", "line": 2, "pattern": "build",
             "exception": False, "excluded_files": 1, "excluded_bytes": 50021,
             "included_files": 0, "included_bytes": 0, "decided": 2, "dead": False},
            {"index": 2, "source": ".dockerignore", "line": 3, "pattern": "!build/keep.txt",
             "exception": True, "excluded_files": 0, "excluded_bytes": 0,
             "included_files": 1, "included_bytes": 20011, "decided": 1, "dead": False},
            {"index": 3, "source": ".dockerignore", "line": 4, "pattern": "*.log",
             "exception": False, "excluded_files": 1, "excluded_bytes": 7001,
             "included_files": 0, "included_bytes": 0, "decided": 1, "dead": False},
        ],
        "largest_files": [{"path": "node_modules/pkg/index.js", "bytes": 200003},
                          {"path": evil, "bytes": 12007},
                          {"path": LATIN1.decode("utf-8", "surrogateescape"), "bytes": 10007}],
        "largest_dirs": [{"path": "node_modules", "files": 3, "bytes": 305015},
                         {"path": "build", "files": 2, "bytes": 70032}],
        "extensions": [{"ext": ".js", "files": 5, "bytes": 343043},
                       {"ext": ".txt", "files": MANY + 3, "bytes": 0}],
        "suspicious": [{"path": "node_modules", "kind": "dependencies", "files": 3,
                        "bytes": 305015}],
        "budgets": [{"name": "max-size", "limit": 100000, "value": sum(sent.values()),
                     "ok": False}],
    }


class Page(html.parser.HTMLParser):
    """Elements by id, the <script> elements, every tag and the text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids, self.scripts, self.tags, self.attrs = {}, [], [], []
        self.in_script = None
        self.text_of, self.open = {}, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        self.attrs.append((tag, attrs))
        if "id" in a:
            self.ids[a["id"]] = a
            self.text_of.setdefault(a["id"], "")
        if tag == "script":
            self.in_script = [a, ""]
        if tag not in ("meta", "br", "input", "img", "link", "hr"):
            self.open.append((tag, a.get("id")))

    def handle_endtag(self, tag):
        if tag == "script" and self.in_script is not None:
            self.scripts.append(tuple(self.in_script))
            self.in_script = None
        while self.open:
            t, _ = self.open.pop()
            if t == tag:
                break

    def handle_data(self, data):
        if self.in_script is not None:
            self.in_script[1] += data
        for _, i in self.open:
            if i is not None:
                self.text_of[i] += data


def parse(text):
    p = Page()
    p.feed(text)
    p.close()
    return p


def decode_png(data):
    """(width, height, rows of (r, g, b) tuples) of an 8-bit RGB/RGBA PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    w, h, depth, ctype, _, _, interlace = ihdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError("unsupported PNG %r" % (ihdr,))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    rows = []
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(w)])
        prev = line
    return w, h, rows


def hex_rgb(s):
    s = s.lstrip("#")
    return tuple(int(s[i:i + 2], 16) for i in (0, 2, 4))


def find_chromium():
    """Chromium's path, or None: not installed, or CTXPACK_SKIP_BROWSER set
    (scripts/test.sh sets it outside its normal build: the browser runs the
    same page script whichever build of html_render wrote the page, and the
    static checks read the page in every build)."""
    if os.environ.get("CTXPACK_SKIP_BROWSER"):
        return None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        p = shutil.which(name)
        if p:
            return p
    return None


def chromium(binary, profile, args):
    return subprocess.run([binary, "--headless", "--disable-gpu", "--no-sandbox",
                           "--hide-scrollbars", "--user-data-dir=" + profile,
                           "--window-size=1280,900", "--force-device-scale-factor=1"] + args,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)


def no_browser_why():
    return os.environ.get("CTXPACK_SKIP_BROWSER") or "chromium not installed"


URL = r"(?i)\b(?:https?|ftp|wss?):/*[a-z0-9]"
DATA_SCRIPT = r'(?s)<script type="application/json" id="ctxpack-(?:stats|tree)">.*?</script>'
FETCH_ATTRS = {"src", "href", "action", "formaction", "poster", "srcset", "data", "background",
               "manifest", "ping", "xlink:href"}
# In the page outside its two JSON data elements (names in the data may
# read like attributes: they are checked to be data below).
NETWORK = [
    (r"(?i)<[a-z][^<>]*\s(?:src|href|action|formaction|poster|srcset|data|background|manifest)"
     r"\s*=\s*[\"']?\s*(?!data:|#)[^\s\"'>]",
     "a src/href attribute"),
    (r"(?i)url\s*\(", "a CSS url()"),
    (r"(?i)@import", "a CSS @import"),
    (r"(?i)\b(?:fetch|XMLHttpRequest|WebSocket|EventSource|importScripts|sendBeacon)\s*\(",
     "a script fetch"),
]


def test_static(page, files, stats):
    # (1) nothing fetched: no URL, no attribute pointing anywhere, and the CSP forbids it.
    # The hostile file name holds `src=x`: it must only appear escaped.
    code = re.sub(DATA_SCRIPT, "", page)
    hits = [("a URL", m.group(0)) for m in re.finditer(URL, page)]
    hits += [(what, m.group(0)) for rx, what in NETWORK for m in re.finditer(rx, code)]
    check("no network fetches in the page (URLs, src/href, url(), fetch)",
          not hits and len(code) < len(page), hits[:5])
    check("a Content-Security-Policy forbids every fetch",
          re.search(r"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';",
                    page), page[:400])

    # (2) valid enough for html.parser: the expected structure, no element from the data.
    try:
        p = parse(page)
        err = None
    except Exception as e:  # noqa: BLE001
        p, err = None, e
    check("html.parser reads the page", p is not None, err)
    if p is None:
        return None
    ids = ["treemap", "total-scanned", "total-sent", "total-excluded", "reduction", "rules",
           "largest-files", "largest-dirs", "extensions", "suspicious", "budgets",
           "ctxpack-stats", "ctxpack-tree"]
    check("the page has every element the report needs", all(i in p.ids for i in ids),
          [i for i in ids if i not in p.ids])
    check("exactly three <script> elements (the names did not end one)",
          len(p.scripts) == 3 and [a.get("id") for a, _ in p.scripts[:2]] ==
          ["ctxpack-stats", "ctxpack-tree"], [(a, t[:80]) for a, t in p.scripts])
    check("no element comes from the data (no <img>)", "img" not in p.tags,
          sorted(set(p.tags)))
    fetching = [(t, a) for t, attrs in p.attrs for a, v in attrs
                if a in FETCH_ATTRS and not (v or "").startswith(("#", "data:"))]
    check("no element has an attribute that fetches (src, href, ...)", not fetching, fetching)
    check("every tag of the page is closed in order", p.tags.count("html") == 1 and
          "body" in p.tags and not [t for t, _ in p.open if t not in ("html",)],
          p.open)

    # The data round-trips.
    try:
        got_stats = json.loads(p.scripts[0][1])
    except Exception as e:  # noqa: BLE001
        got_stats = e
    check("the embedded stats document is the one given, exactly", got_stats == stats,
          str(got_stats)[:300])
    check("'</' and U+2028 in the stats are escaped",
          "ctx</script>" not in page and "\u2028" not in page and
          "ctx\\u003c/script>\\u2028" in page, re.findall(r".{20}ctx.{30}", page)[:2])
    try:
        tree = json.loads(p.scripts[1][1])
    except Exception as e:  # noqa: BLE001
        tree = None
        err = e
    check("the embedded tree is JSON", tree is not None, err)
    if tree is None:
        return p
    return p, tree


def node_paths(tree):
    nodes = tree["nodes"]
    paths = []
    for n in nodes:
        parent = n[0]
        paths.append(n[2] if parent <= 0 else paths[parent] + "/" + n[2])
    return paths


def test_tree(tree, files):
    nodes = tree["nodes"]
    paths = node_paths(tree)
    by = {p: n for p, n in zip(paths, nodes) if n[1] != "r"}
    sent = sum(s for s, ok in files.values() if ok)
    excl = sum(s for s, ok in files.values() if not ok)
    root = nodes[0] if nodes else None
    check("the tree's root holds all sent and excluded bytes and files",
          root and root[0] == -1 and root[3] == sent and root[4] == excl and root[6] == len(files),
          (root, sent, excl, len(files)))
    nm = by.get("node_modules")
    check("node_modules (not entered) is one excluded box with everything below it",
          nm and nm[1] == "p" and nm[3] == 0 and nm[4] == 305015 and nm[6] == 3 and nm[7] == 3 and
          not [p for p in paths if p.startswith("node_modules/")],
          (nm, [p for p in paths if p.startswith("node_modules")]))
    rules = tree["rules"]
    nm_rule = rules[nm[5]] if nm and 0 <= nm[5] < len(rules) else None
    check("node_modules names its rule (.dockerignore:1:node_modules)",
          nm_rule == [".dockerignore", 1, "node_modules"], (nm, rules))
    keep = by.get("build/keep.txt")
    keep_rule = rules[keep[5]] if keep and 0 <= keep[5] < len(rules) else None
    check("the re-included file is a sent box decided by the exception",
          keep and keep[1] == "f" and keep[3] == 20011 and keep[4] == 0 and
          keep_rule == [".dockerignore", 3, "!build/keep.txt"], (keep, keep_rule))
    out = by.get("build/out.bin")
    check("an excluded file in an entered directory is an excluded box",
          out and out[1] == "f" and out[3] == 0 and out[4] == 50021, out)
    latin = LATIN1.decode("utf-8", "surrogateescape")
    check("a name that is not UTF-8 arrives as \\udcXX (surrogateescape)",
          latin in by and "caf\\udce9.txt" in json.dumps(tree), [p for p in paths if "caf" in p])
    evil = EVIL_DIR + "/" + EVIL_FILE
    check("the '</script>' name is kept whole", evil in by and by[evil][3] == 12007,
          [p for p in paths if "evil" in p])
    many = [n for n, p in zip(nodes, paths) if p.startswith("many/") and n[1] == "f"]
    rest = [n for n in nodes if n[1] == "r" and paths[n[0]] == "many"]
    check("a directory shows its largest files and one '(N smaller files)' box",
          len(many) == 100 and min(n[3] for n in many) == 100 + MANY - 100 and
          len(rest) == 1 and rest[0][6] == MANY - 100 and
          rest[0][3] == sum(100 + i for i in range(MANY - 100)),
          (len(many), rest))
    total = sum(n[3] + n[4] for n in nodes if n[1] in ("f", "r", "p"))
    check("the leaves of the tree add up to the root", total == sent + excl, (total, sent + excl))


def test_browser(out_html, stats, workdir):
    name = "headless Chromium: "
    binary = find_chromium()
    names = ["the DOM has #treemap with drawn boxes",
             "#total-scanned shows the scanned bytes", "#total-sent shows the sent bytes",
             "#reduction shows the reduction", "the tables are filled from the stats document",
             "hostile names are shown as text, never run",
             "the screenshot is not blank and shows the sent and excluded colours"]
    if not binary:
        for n in names:
            skip(name + n, no_browser_why())
        return
    profile = tempfile.mkdtemp(prefix="ctxpack-html-chromium-", dir=workdir)
    url = "file://" + out_html
    r = chromium(binary, profile, ["--dump-dom", url])
    try:
        dom = parse(r.stdout.decode("utf-8", "replace"))
    except Exception:  # noqa: BLE001
        dom = Page()
    tm = dom.ids.get("treemap", {})
    boxes = int(tm.get("data-boxes", "0") or 0)
    check(name + names[0], r.returncode == 0 and boxes >= 8,
          (r.returncode, tm, r.stderr[-400:]))

    def total(i, key):
        a = dom.ids.get(i, {})
        want = stats[key]["bytes"]
        return (a.get("data-bytes") == str(want) and dom.text_of.get(i, "").strip() == human(want) and
                ("{:,} bytes".format(want)) in dom.text_of.get(i + "-sub", ""),
                (a, dom.text_of.get(i), dom.text_of.get(i + "-sub"), want))
    ok, detail = total("total-scanned", "scanned")
    check(name + names[1], ok, detail)
    ok, detail = total("total-sent", "sent")
    check(name + names[2], ok, detail)
    red = dom.ids.get("reduction", {})
    check(name + names[3], dom.text_of.get("reduction", "").strip() ==
          "%.1f %%" % stats["reduction"]["bytes_pct"] and
          float(red.get("data-bytes-pct", "nan")) == stats["reduction"]["bytes_pct"],
          (red, dom.text_of.get("reduction")))
    rules_text = dom.text_of.get("rules", "")
    check(name + names[4], all(r["pattern"] in rules_text for r in stats["rules"]) and
          dom.tags.count("tr") >= 1 + len(stats["rules"]) + 3 + 2 + 2 + 1 + 1 and
          "over budget" in dom.text_of.get("budgets", ""),
          (rules_text[:300], dom.tags.count("tr")))
    lf = dom.text_of.get("largest-files", "")
    check(name + names[5], EVIL_DIR + "/" + EVIL_FILE in lf and "caf\\xe9.txt" in lf and
          "img" not in dom.tags and
          re.search(r"<title>ctxpack stats: [^<]*</title>", r.stdout.decode("utf-8", "replace")),
          (lf[:400], sorted(set(dom.tags))))

    png = os.path.join(workdir, "page.png")
    r = chromium(binary, profile, ["--screenshot=" + png, url])
    try:
        with open(png, "rb") as f:
            w, h, rows = decode_png(f.read())
        x0, y0, rw, rh = (int(v) for v in tm.get("data-rect", "0,0,0,0").split(","))
        area = [px for row in rows[y0 + 2:min(h, y0 + rh - 2)] for px in row[x0 + 2:min(w, x0 + rw - 2)]]
        counts = {}
        for px in area:
            counts[px] = counts.get(px, 0) + 1
        sent_c, excl_c = hex_rgb(tm.get("data-sent-colour", "#000000")), hex_rgb(
            tm.get("data-excluded-colour", "#000000"))
        everywhere = {px for row in rows for px in row}
        ok = (len(everywhere) >= 8 and len(counts) >= 4 and counts.get(sent_c, 0) >= 2000 and
              counts.get(excl_c, 0) >= 2000 and sent_c != excl_c)
        detail = (w, h, len(everywhere), len(area), counts.get(sent_c), counts.get(excl_c),
                  sorted(counts.items(), key=lambda kv: -kv[1])[:6])
    except Exception as e:  # noqa: BLE001
        ok, detail = False, (r.returncode, repr(e), r.stderr[-400:])
    check(name + names[6], ok, detail)


# Interaction tests: the page is copied with a driver script added after the
# report's own (the CSP allows inline scripts) and, when given, one before it;
# the driver acts on the page as a user would (synthetic mouse and keyboard
# events, clicks, typing) and writes what it saw as JSON into <pre
# id="test-out">, which --dump-dom shows.  Nothing of this is in the page
# ctxpack writes.
DRIVER_LIB = r"""
var T = {};
T.box = document.getElementById('treemap');
T.canvas = T.box.querySelector('canvas');
T.tip = document.getElementById('tooltip');
T.move = function (x, y) {
	T.canvas.dispatchEvent(new MouseEvent('mousemove', { clientX: x, clientY: y, bubbles: true }));
};
/* the path the tooltip names (its first line), null when hidden */
T.tipPath = function () {
	if (T.tip.hidden)
		return null;
	var f = T.tip.firstElementChild;
	return f ? f.textContent : T.tip.textContent.split('\n')[0];
};
/* hovers a grid over the canvas: the share of the points per top-level
 * name, and one point per path */
T.grid = function (step) {
	var r = T.canvas.getBoundingClientRect(), share = {}, at = {}, total = 0;
	for (var y = r.top + step / 2; y < r.bottom; y += step)
		for (var x = r.left + step / 2; x < r.right; x += step) {
			T.move(x, y);
			total++;
			var p = T.tipPath();
			if (p === null)
				continue;
			var top = T.box.dataset.level === '.' ? p.split('/')[0] : p;
			share[top] = (share[top] || 0) + 1;
			if (!at[p])
				at[p] = [x, y];
		}
	Object.keys(share).forEach(function (k) { share[k] /= total; });
	return { share: share, at: at, total: total };
};
T.set = function (id, value) {
	var e = document.getElementById(id);
	e.value = value;
	e.dispatchEvent(new Event(e.tagName === 'SELECT' ? 'change' : 'input', { bubbles: true }));
};
/* the legend's entries: text and swatch colour (rgb(r, g, b)) */
T.legend = function () {
	return Array.prototype.map.call(document.querySelectorAll('#legend .item'), function (it) {
		return { text: it.textContent, colour: getComputedStyle(it.querySelector('.sw')).backgroundColor };
	});
};
/* the first cells (or cell k) of the rows of table id that are not hidden */
T.rows = function (id, k) {
	return Array.prototype.filter.call(document.querySelectorAll('#' + id + '-table tbody tr'),
		function (r) { return !r.hidden; }).map(function (r) { return r.cells[k || 0]; });
};
T.texts = function (id, k) { return T.rows(id, k).map(function (c) { return c.textContent; }); };
T.header = function (id, text) {
	return Array.prototype.filter.call(document.querySelectorAll('#' + id + '-table th'),
		function (th) { return th.textContent === text; })[0];
};
T.done = function (f) {
	var out;
	try {
		out = f();
	} catch (e) {
		out = { error: String(e) + ' ' + (e.stack || '') };
	}
	var pre = document.createElement('pre');
	pre.id = 'test-out';
	pre.textContent = JSON.stringify(out);
	document.body.appendChild(pre);
};
"""


class Loose(dict):
    """A driver's result: a key it did not write reads as None."""

    def __missing__(self, key):
        return None


def drive(binary, profile, page_file, workdir, name, driver, before="", fragment="",
          size="1280,900"):
    """Runs driver (JavaScript calling T.done(function () {... return result;}))
    in a copy of page_file; returns (result or None, detail)."""
    with open(page_file, encoding="utf-8") as f:
        text = f.read()
    i = text.rindex("<script>\n")
    if before:
        text = text[:i] + "<script>\n" + before + "\n</script>\n" + text[i:]
    j = text.rindex("</body>")
    text = text[:j] + "<script>\n" + DRIVER_LIB + driver + "\n</script>\n" + text[j:]
    copy = os.path.join(workdir, name + ".html")
    with open(copy, "w", encoding="utf-8") as f:
        f.write(text)
    r = subprocess.run([binary, "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars",
                        "--user-data-dir=" + profile, "--window-size=" + size,
                        "--force-device-scale-factor=1", "--dump-dom", "file://" + copy + fragment],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=180)
    try:
        dom = parse(r.stdout.decode("utf-8", "replace"))
        got = json.loads(dom.text_of.get("test-out", ""), object_hook=Loose)
    except Exception as e:  # noqa: BLE001
        return None, (r.returncode, repr(e), r.stderr[-600:])
    if isinstance(got, dict) and "error" in got:
        return None, got["error"]
    return got, dom


# A context where the excluded bytes dwarf the sent ones (as node-app in
# /work/shared/corpora: 1.5 % sent) and many rules decide bytes.
DWARF_RULES = 20


def make_dwarf(d):
    files = {"Dockerfile": (20, True), "src/index.js": (30000, True), "src/lib/a.js": (12000, True),
             "package.json": (1500, True), "node_modules/big/x.bin": (2000000, False)}
    ignore = "node_modules\n"
    for i in range(DWARF_RULES):
        files["gen%02d/blob.dat" % i] = (10000 + 1000 * i, False)
        ignore += "gen%02d\n" % i
    ignore += "**/*.md\n"
    # a directory drawn as a frame whose own rule decides none of the boxes inside
    ignore += "cache\n!cache/*\n"
    files["cache/a.bin"] = (70000, True)
    files["cache/b.bin"] = (50000, True)
    files["notes/" + "a-long-directory-name-for-wrapping/" * 3 + "the-long-file-name.md"] = (5000, False)
    for path, (size, _) in files.items():
        tap.write(d, path, b"z" * size)
    tap.write(d, ".dockerignore", ignore.encode())
    files[".dockerignore"] = (len(ignore), True)
    return files


def dwarf_stats(d, files):
    sent = {p: s for p, (s, ok) in files.items() if ok}
    excl = {p: s for p, (s, ok) in files.items() if not ok}
    scanned = sum(s for s, _ in files.values())
    return {"version": 1, "context": d, "builder": "buildkit", "dockerfile": "Dockerfile",
            "ignore_file": ".dockerignore",
            "scanned": {"entries": len(files), "files": len(files), "dirs": 0, "other": 0,
                        "bytes": scanned},
            "sent": {"entries": len(sent), "files": len(sent), "dirs": 0, "other": 0,
                     "bytes": sum(sent.values()), "tar_bytes": 0},
            "excluded": {"entries": len(excl), "files": len(excl), "bytes": sum(excl.values())},
            "reduction": {"bytes_pct": 0, "files_pct": 0}, "rules": [], "largest_files": [],
            "largest_dirs": [], "extensions": [], "suspicious": [], "budgets": []}


def top_shares(tree, view):
    """{top-level name: its share of the root's bytes in the view}"""
    nodes = tree["nodes"]
    root = nodes[0]
    total = root[3] if view == "sent" else root[3] + root[4]
    out = {}
    for n in nodes[1:]:
        if n[0] == 0:
            v = n[3] if view == "sent" else n[3] + n[4]
            name = re.sub("[\udc80-\udcff]", lambda m: "\\x%02x" % (ord(m.group(0)) - 0xdc00),
                          n[2]) if n[1] != "r" else \
                "(%d smaller file%s)" % (n[6], "" if n[6] == 1 else "s")
            out[name] = v / total
    return out


def test_views(binary, profile, workdir, page, tree, dwarf_page, dwarf_tree):
    name = "headless Chromium: "
    grid = "T.done(function () { var g = T.grid(5); return {view: T.box.dataset.view, " \
           "share: g.share, level: T.box.dataset.level, hash: location.hash}; });"
    got, d = drive(binary, profile, page, workdir, "default", grid)
    check(name + "a context that sends a fair share opens in the scanned view",
          got and got["view"] == "scanned", (got, d))
    got2, d2 = drive(binary, profile, dwarf_page, workdir, "dwarf-default", grid)
    check(name + "a context whose excluded bytes dwarf the sent ones opens in the sent view",
          got2 and got2["view"] == "sent" and "view=sent" in got2["hash"], (got2, d2))
    for view, g, t, what in (("scanned", got, tree, "test"), ("sent", got2, dwarf_tree, "dwarf")):
        want = top_shares(t, view)
        bad = {k: (round(v, 4), round((g or {}).get("share", {}).get(k, 0), 4))
               for k, v in want.items() if v >= 0.04 and
               abs(v - (g or {}).get("share", {}).get(k, 0)) > 0.015}
        extra = {k: v for k, v in (g or {}).get("share", {}).items() if want.get(k, 0) == 0}
        check(name + "the %s view's boxes have the area of their share of the %s bytes (%s)" %
              (view, view, what), g and not bad and not extra, (bad, extra, g))
    got, d = drive(binary, profile, page, workdir, "sent-view", grid, fragment="#view=sent")
    want = top_shares(tree, "sent")
    bad = {k: (round(v, 4), round((got or {}).get("share", {}).get(k, 0), 4))
           for k, v in want.items() if v >= 0.04 and
           abs(v - (got or {}).get("share", {}).get(k, 0)) > 0.015}
    check(name + "#view=sent: box area is the share of the sent bytes, excluded bytes have none",
          got and got["view"] == "sent" and not bad and "node_modules" not in got["share"] and
          abs(sum(got["share"].values()) - 1) < 0.01, (bad, got))
    got, d = drive(binary, profile, dwarf_page, workdir, "fragment", """T.done(function () {
        var before = {view: T.box.dataset.view, level: T.box.dataset.level,
                      colour: document.getElementById('colour-mode').value};
        T.set('view', 'sent');
        var after = {view: T.box.dataset.view, level: T.box.dataset.level, hash: location.hash};
        return {before: before, after: after}; });""",
                   fragment="#view=scanned&colour=rule&dir=notes")
    check(name + "the fragment sets the view, colour and level; a level without sent bytes "
          "goes up in the sent view, and the fragment follows",
          got and got["before"] == {"view": "scanned", "level": "notes", "colour": "rule"} and
          got["after"]["view"] == "sent" and got["after"]["level"] == "." and
          "view=sent" in got["after"]["hash"] and "dir=" not in got["after"]["hash"], (got, d))


def rgb(hex_colour):
    return "rgb(%d, %d, %d)" % hex_rgb(hex_colour)


def test_legend(binary, profile, workdir, page, dwarf_page):
    name = "headless Chromium: "
    legend = """T.done(function () {
        var c = T.canvas, px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, painted = {};
        for (var i = 0; i < px.length; i += 4) {
            var k = 'rgb(' + px[i] + ', ' + px[i + 1] + ', ' + px[i + 2] + ')';
            painted[k] = (painted[k] || 0) + 1;
        }
        return {legend: T.legend(), sent: T.box.dataset.sentColour, painted: painted,
            excl: T.box.dataset.excludedColour, re: T.box.dataset.reincludedColour}; });"""
    got, d = drive(binary, profile, dwarf_page, workdir, "legend-rules", legend,
                   fragment="#view=scanned&colour=rule")
    lg = got["legend"] if got else []
    colours = [e["colour"] for e in lg]
    semantic = {rgb(got[k]) for k in ("sent", "excl", "re")} if got else set()
    check(name + "colour by rule: no two legend entries share a colour, none is the sent, "
          "excluded or re-included colour", got and len(lg) >= 3 and len(set(colours)) == len(lg) and
          not semantic & set(colours) and len(semantic) == 3, (lg, semantic, d))
    ruled = [e["text"] for e in lg if e["text"].startswith(".dockerignore:")]
    want = [".dockerignore:1 node_modules", ".dockerignore:%d !cache/*" % (DWARF_RULES + 4)] + \
        [".dockerignore:%d gen%02d" % (i + 2, i) for i in range(DWARF_RULES - 1, DWARF_RULES - 7, -1)]
    others = [e["text"] for e in lg if e["text"].startswith("other rules")]
    check(name + "more rules than colours: the 8 with the most bytes get one each (legend: "
          "source:line and text), the rest one 'other rules' entry",
          ruled == want and others == ["other rules (%d here)" % (DWARF_RULES - 6)] and
          [e["text"] for e in lg][-1] == "no rule", (ruled, want, lg))
    painted = got["painted"] if got else {}
    check(name + "every legend entry's colour is painted in the treemap (a directory's frame "
          "counts for no rule)", lg and all(painted.get(c, 0) >= 20 for c in colours),
          [(e, painted.get(e["colour"], 0)) for e in lg])
    got, d = drive(binary, profile, page, workdir, "legend-sent", legend,
                   fragment="#view=scanned&colour=sent&dir=build")
    lg = got["legend"] if got else []
    check(name + "colour by sent/excluded: sent, re-included and excluded each have their own colour",
          got and [e["text"] for e in lg] == ["sent", "re-included by an exception", "excluded"] and
          [e["colour"] for e in lg] == [rgb(got["sent"]), rgb(got["re"]), rgb(got["excl"])] and
          len({e["colour"] for e in lg}) == 3, (lg, d))


# Before the report's script: records every label drawn with the clip
# rectangle it is drawn in (html_report.js text()).
RECORD_LABELS = r"""
window.drawnLabels = [];
(function () {
	var C = CanvasRenderingContext2D.prototype, rect = C.rect, fillText = C.fillText;
	C.rect = function (x, y, w, h) {
		this.lastRect = [x, y, w, h];
		return rect.apply(this, arguments);
	};
	C.fillText = function (s, x, y) {
		window.drawnLabels.push({ s: String(s), x: x, w: this.measureText(String(s)).width,
			clip: this.lastRect || null });
		this.lastRect = null;
		return fillText.apply(this, arguments);
	};
})();
"""


def js_value(v):
    """v as a JavaScript literal safe inside <script>"""
    return json.dumps(v).replace("<", "\\u003c")


def test_labels(binary, profile, workdir, page, tree):
    name = "headless Chromium: "
    full = sorted({re.sub("[\udc80-\udcff]", lambda m: "\\x%02x" % (ord(m.group(0)) - 0xdc00), n[2])
                   for n in tree["nodes"] if n[1] != "r"} |
                  {"(%d smaller file%s)" % (n[6], "" if n[6] == 1 else "s")
                   for n in tree["nodes"] if n[1] == "r"})
    got, d = drive(binary, profile, page, workdir, "labels", """T.done(function () {
        var names = %s, bad = [], cut = [], whole = 0;
        window.drawnLabels.forEach(function (l) {
            var fits = l.clip && l.x >= l.clip[0] && l.x + l.w <= l.clip[0] + l.clip[2] + 0.5;
            if (l.s.slice(-1) === '\u2026') {
                var stem = l.s.slice(0, -1);
                cut.push(l.s);
                if (!fits || !stem || !names.some(function (n) { return n.indexOf(stem) === 0 && n !== stem; }))
                    bad.push(l);
            } else {
                whole++;
                if (!fits)
                    bad.push(l);
            }
        });
        return {bad: bad, cut: cut, whole: whole}; });""" % js_value(full), before=RECORD_LABELS)
    check(name + "a label too long for its box is cut with '\u2026' and fits; the others are whole",
          got and got["cut"] and got["whole"] >= 5 and not got["bad"],
          (got, d) if not got else (got["bad"][:5], got["cut"][:10], got["whole"]))


LONG_DIR = "notes/" + "a-long-directory-name-for-wrapping/" * 2 + "a-long-directory-name-for-wrapping"
TOOLTIP_CORNERS = r"""T.done(function () {
	var spacer = document.createElement('div'), out = [];
	spacer.style.height = '3000px';
	document.body.appendChild(spacer);
	var abs = T.canvas.getBoundingClientRect(), top = abs.top + window.scrollY;
	[['left', 'top'], ['right', 'top'], ['left', 'bottom'], ['right', 'bottom']].forEach(function (c) {
		/* the corner of the canvas at the edge of the window */
		window.scrollTo(0, c[1] === 'top' ? top : top + abs.height - window.innerHeight);
		var r = T.canvas.getBoundingClientRect();
		var x = c[0] === 'left' ? r.left + 2 : r.right - 3, y = c[1] === 'top' ? r.top + 2 : r.bottom - 3;
		T.move(x, y);
		var t = T.tip.getBoundingClientRect();
		out.push({ corner: c.join('-'), at: [x, y], hidden: T.tip.hidden, path: T.tipPath(),
			tip: [t.left, t.top, t.right, t.bottom], vw: document.documentElement.clientWidth,
			vh: document.documentElement.clientHeight });
	});
	/* the path's parts each on one line, the path on more than one */
	var first = T.tip.firstElementChild, tops = {}, split = [];
	Array.prototype.forEach.call(first.childNodes, function (n) {
		if (!n.textContent)
			return;
		var rg = document.createRange();
		rg.selectNodeContents(n);
		var rects = Array.prototype.filter.call(rg.getClientRects(), function (q) { return q.width > 0; });
		if (rects.length !== 1)
			split.push([n.textContent, rects.length]);
		else
			tops[Math.round(rects[0].top)] = 1;
	});
	return { corners: out, lines: Object.keys(tops).length, split: split, path: T.tipPath() };
});"""


def test_tooltip(binary, profile, workdir, dwarf_page):
    name = "headless Chromium: "
    for size in ("1280,600", "420,600"):
        got, d = drive(binary, profile, dwarf_page, workdir, "tooltip", TOOLTIP_CORNERS,
                       fragment="#view=scanned&dir=" + LONG_DIR, size=size)
        corners = got["corners"] if got else []
        out = [c for c in corners if c["hidden"] or c["tip"][0] < 0 or c["tip"][1] < 0 or
               c["tip"][2] > c["vw"] or c["tip"][3] > c["vh"]]
        check(name + "a tooltip at each corner of the treemap stays inside a %s window" % size,
              len(corners) == 4 and not out, (out or corners, d))
        check(name + "a long path in the tooltip wraps between its parts, not within one (%s)" % size,
              got and got["path"] == LONG_DIR + "/the-long-file-name.md" and got["lines"] >= 2 and
              not got["split"], (got, d))


def test_search_sort(binary, profile, workdir, page, stats):
    name = "headless Chromium: "
    got, d = drive(binary, profile, page, workdir, "search", """T.done(function () {
        var before = {files: T.texts('largest-files'), boxes: +T.box.dataset.boxes};
        T.set('search', 'CAF');
        var after = {files: T.texts('largest-files'), dirs: T.texts('largest-dirs'),
            sus: T.texts('suspicious'), matches: +T.box.dataset.matches, hash: location.hash};
        T.set('search', 'Node_Mod');
        var nm = {files: T.texts('largest-files'), matches: +T.box.dataset.matches};
        T.set('search', '');
        return {before: before, after: after, nm: nm, cleared: T.texts('largest-files'),
            cleared_matches: T.box.dataset.matches, input: document.getElementById('search').type};
    });""")
    files = [re.sub("[\udc80-\udcff]", lambda m: "\\x%02x" % (ord(m.group(0)) - 0xdc00), f["path"])
             for f in stats["largest_files"]]
    check(name + "the search box keeps the rows whose path holds the text (any case) and "
          "highlights the boxes that hold a match",
          got and got["input"] == "search" and got["before"]["files"] == files and
          got["after"]["files"] == ["caf\\xe9.txt"] and got["after"]["dirs"] == [] and
          got["after"]["sus"] == [] and 1 <= got["after"]["matches"] < got["before"]["boxes"] and
          "q=CAF" in got["after"]["hash"] and got["nm"]["files"] == ["node_modules/pkg/index.js"] and
          got["nm"]["matches"] >= 1 and got["cleared"] == files and got["cleared_matches"] == "0",
          (got, d))
    got, d = drive(binary, profile, page, workdir, "search-fragment", """T.done(function () {
        return {files: T.texts('largest-files'), value: document.getElementById('search').value}; });""",
                   fragment="#q=evil%3C")
    check(name + "#q= in the fragment fills the search box and filters",
          got and got["value"] == "evil<" and len(got["files"]) == 1 and
          got["files"][0].startswith("evil<"), (got, d))
    got, d = drive(binary, profile, page, workdir, "sort", """T.done(function () {
        function bytes(id, k) { return T.rows(id, k).map(function (c) {
            return Number(c.title.replace(/[^0-9]/g, '')); }); }
        var size = T.header('largest-files', 'Size'), p = T.header('largest-files', 'Path');
        var btn = size.querySelector('button');
        btn.click();
        var asc = {v: bytes('largest-files', 1), sort: size.getAttribute('aria-sort')};
        btn.click();
        var desc = {v: bytes('largest-files', 1), sort: size.getAttribute('aria-sort')};
        p.querySelector('button').click();
        var byPath = {v: T.texts('largest-files'), sort: p.getAttribute('aria-sort'),
            size: size.getAttribute('aria-sort')};
        var ex = T.header('rules', 'Excluded bytes');
        ex.querySelector('button').click();
        ex.querySelector('button').click();
        var rules = {v: bytes('rules', 4), sort: ex.getAttribute('aria-sort')};
        return {asc: asc, desc: desc, byPath: byPath, rules: rules, tag: btn.tagName,
            tab: btn.tabIndex, focus: (btn.focus(), document.activeElement === btn)};
    });""")
    ok = got and got["tag"] == "BUTTON" and got["tab"] >= 0 and got["focus"]
    sizes = sorted(f["bytes"] for f in stats["largest_files"])
    check(name + "clicking a header sorts its column ascending, then descending, with aria-sort "
          "(headers are focusable buttons)",
          ok and got["asc"] == {"v": sizes, "sort": "ascending"} and
          got["desc"] == {"v": sizes[::-1], "sort": "descending"} and
          got["byPath"]["v"] == sorted(got["byPath"]["v"], key=str.lower) and
          got["byPath"]["sort"] == "ascending" and got["byPath"]["size"] is None and
          got["rules"]["v"] == sorted((r["excluded_bytes"] for r in stats["rules"]), reverse=True) and
          got["rules"]["sort"] == "descending", (got, d))


def test_extensions(binary, profile, workdir, page, tree, files):
    name = "headless Chromium: "
    got, d = drive(binary, profile, page, workdir, "extensions", """T.done(function () {
        var heads = Array.prototype.map.call(document.querySelectorAll('#extensions-table th'),
            function (th) { return th.textContent; });
        function col(h, f) {
            var k = heads.indexOf(h);
            return k < 0 ? null : T.rows('extensions', k).map(f);
        }
        function share(c) { return parseFloat(c.textContent); }
        function bytes(c) { return Number(c.title.replace(/[^0-9]/g, '')); }
        return {heads: heads, ext: T.texts('extensions'),
            sentShare: col('Share of sent bytes', share), exclShare: col('Share of excluded bytes', share),
            sent: col('Sent bytes', bytes), excl: col('Excluded bytes', bytes)}; });""")
    root = tree["nodes"][0]
    sent_by = {}
    for p, (size, ok) in files.items():
        base = p.rsplit("/", 1)[-1]
        dot = base.rfind(".")
        e = base[dot:] if dot > 0 else ""
        if ok:
            sent_by[e] = sent_by.get(e, 0) + size
    ok = got and got["sentShare"] and got["exclShare"] and got["sent"] and got["excl"]
    rows = len(got["ext"]) if ok else 0
    check(name + "the extension table has a share of the sent bytes and a share of the excluded "
          "bytes, each column adding up to 100 %",
          ok and abs(sum(got["sentShare"]) - 100) <= 0.05 * rows + 0.01 and
          abs(sum(got["exclShare"]) - 100) <= 0.05 * rows + 0.01 and
          sum(got["sent"]) == root[3] and sum(got["excl"]) == root[4] and
          "Share" not in [h for h in got["heads"]], (got, d))
    by = dict(zip(got["ext"], got["sent"])) if ok else {}
    check(name + "the extension table's sent bytes are the files' ('.js', '.txt', none), "
          "what is below node_modules a row of its own",
          ok and by.get(".js") == sent_by[".js"] and by.get(".txt") == sent_by[".txt"] and
          by.get("(none)") == sent_by[""] and
          got["excl"][got["ext"].index("(in excluded directories not entered)")] == 305015,
          (by, sent_by, got))


# A context with a Dockerfile that reads src/ only: path -> (size, use),
# use "read", "unread" (sent, read by nothing) or "excluded".
USE_FILES = {
    "src/app.js": (30011, "read"),
    "src/lib/util.js": (8017, "read"),
    "docs/manual.txt": (40009, "unread"),
    "notes.md": (6007, "unread"),
    "build/out.bin": (50021, "excluded"),
    "app.log": (7001, "excluded"),
}
USE_DOCKERFILE = b"FROM scratch\nCOPY src/ /app/src/\n"
USE_IGNORE = b"build\n*.log\n"


def make_use_tree(d):
    for path, (size, _) in USE_FILES.items():
        full = os.path.join(d, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(b"u" * size)
    with open(os.path.join(d, "Dockerfile"), "wb") as f:
        f.write(USE_DOCKERFILE)
    with open(os.path.join(d, ".dockerignore"), "wb") as f:
        f.write(USE_IGNORE)


def stats_page(workdir, name, args):
    """`ctxpack stats --html` into workdir/name: (page file, stats document,
    tree data) or None."""
    out = os.path.join(workdir, name)
    r = subprocess.run([CTXPACK, "stats", "--html", out] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    if r.returncode != 0 or not os.path.exists(out):
        return None, (r.returncode, r.stderr[-400:])
    scripts = parse(open(out, encoding="utf-8").read()).scripts
    return (out, json.loads(scripts[0][1]), json.loads(scripts[1][1])), None


def test_use(binary, workdir):
    """The colour mode by use: the tree data carries, per node, the sent
    bytes the build reads (stats' flags), and the page draws the three
    classes; without a readable Dockerfile the mode is disabled with the
    reason."""
    name = "colour by use: "
    ctx = os.path.join(workdir, "use")
    os.mkdir(ctx)
    make_use_tree(ctx)
    got, detail = stats_page(workdir, "use.html", [ctx])
    check(name + "stats --html writes the page of a context with a Dockerfile", got, detail)
    if not got:
        return
    page, stats, tree = got
    paths = node_paths(tree)
    by_path = {p: n for p, n in zip(paths, tree["nodes"])}
    want = {p: (size if use == "read" else 0) for p, (size, use) in USE_FILES.items()
            if use != "excluded" and p in by_path}
    have = {p: by_path[p][8] for p in want}
    read = sum(s for s, u in USE_FILES.values() if u == "read")
    check(name + "the tree data says the build's view is known and holds, per file, the bytes "
          "the build reads (all of a read file, none of an unread one)",
          tree.get("used") is True and len(want) == 4 and have == want and
          all(len(n) == 9 for n in tree["nodes"]), (tree.get("used"), have, want))
    root = tree["nodes"][0]
    check(name + "the root's read bytes are stats' used.read bytes; directories add up",
          root[8] == stats["used"]["read"]["bytes"] == read and
          by_path.get("src", [0] * 9)[8] == read and by_path.get("docs", [0] * 9)[8] == 0 and
          by_path.get("build", [0] * 9)[8] == 0,
          (root, stats["used"], by_path.get("src"), by_path.get("docs")))
    bad, detail = stats_page(workdir, "use-unknown.html", ["--target", "nope", ctx])
    check(name + "a Dockerfile that cannot be read (an unknown --target): the page is written, "
          "its tree data says the build's view is unknown and no node claims a read byte",
          bad and bad[2].get("used") is False and bad[1]["used"]["unknown"] and
          all(n[8] == 0 for n in bad[2]["nodes"]), detail or (bad and bad[2].get("used")))
    names = ["the default mode; legend read / unread / excluded in three distinct colours, none "
             "the sent or re-included colour, each painted",
             "the summary shows the read and unread totals",
             "the sent / excluded mode still draws its own colours",
             "without the build's view the mode is disabled with the reason, sent / excluded "
             "drawn, the summary says unknown"]
    if not binary:
        for n in names:
            skip("headless Chromium: " + name + n, no_browser_why())
        return
    profile = tempfile.mkdtemp(prefix="ctxpack-html-use-", dir=workdir)
    driver = """T.done(function () {
        var c = T.canvas, px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, painted = {};
        for (var i = 0; i < px.length; i += 4) {
            var k = 'rgb(' + px[i] + ', ' + px[i + 1] + ', ' + px[i + 2] + ')';
            painted[k] = (painted[k] || 0) + 1;
        }
        var opt = document.querySelector('#colour-mode option[value=used]'), d = T.box.dataset;
        return {legend: T.legend(), painted: painted, mode: d.colourMode, view: d.view,
            used: d.usedColour, unused: d.unusedColour, excl: d.excludedColour,
            sent: d.sentColour, re: d.reincludedColour, disabled: opt.disabled, title: opt.title,
            select: document.getElementById('colour-mode').value,
            totals: ['total-used', 'total-used-sub', 'total-unused', 'total-unused-sub'].map(
                function (id) { return document.getElementById(id).textContent; }),
            usedBytes: document.getElementById('total-used').dataset.bytes,
            unusedBytes: document.getElementById('total-unused').dataset.bytes}; });"""
    got, d = drive(binary, profile, page, workdir, "use-default", driver)
    lg = got["legend"] if got else []
    painted = got["painted"] if got else {}
    cols = [rgb(got[k]) for k in ("used", "unused", "excl")] if got else []
    check("headless Chromium: " + name + names[0],
          got and got["mode"] == "used" and got["select"] == "used" and got["view"] == "scanned" and
          [e["text"] for e in lg] == ["read by the build", "sent, read by nothing", "excluded"] and
          [e["colour"] for e in lg] == cols and len(set(cols)) == 3 and
          not {rgb(got["sent"]), rgb(got["re"])} & set(cols) and
          all(painted.get(c, 0) >= 2000 for c in cols), (got and got["mode"], lg, cols,
                                                          [painted.get(c, 0) for c in cols], d))
    unread = stats["used"]["unread"]["bytes"]
    check("headless Chromium: " + name + names[1],
          got and got["usedBytes"] == str(read) and got["unusedBytes"] == str(unread) and
          got["totals"][0] == human(read) and "{:,} bytes".format(read) in got["totals"][1] and
          got["totals"][2] == human(unread) and "{:,} bytes".format(unread) in got["totals"][3],
          (got and got["totals"], read, unread))
    got2, d = drive(binary, profile, page, workdir, "use-sent", driver, fragment="#colour=sent")
    lg = got2["legend"] if got2 else []
    check("headless Chromium: " + name + names[2],
          got2 and got2["mode"] == "sent" and [e["text"] for e in lg] == ["sent", "excluded"] and
          painted and got2["painted"].get(rgb(got2["used"]), 0) == 0 and
          got2["painted"].get(rgb(got2["sent"]), 0) >= 2000, (got2 and got2["mode"], lg, d))
    if not bad:
        check("headless Chromium: " + name + names[3], False, "no page without the build's view")
        return
    got3, d = drive(binary, profile, bad[0], workdir, "use-unknown", driver, fragment="#colour=used")
    lg = got3["legend"] if got3 else []
    check("headless Chromium: " + name + names[3],
          got3 and got3["disabled"] is True and "target stage" in got3["title"] and
          got3["mode"] == "sent" and got3["select"] == "sent" and
          [e["text"] for e in lg] == ["sent", "excluded"] and
          got3["totals"][0] == "unknown" and "target stage" in got3["totals"][1] and
          got3["painted"].get(rgb(got3["used"]), 0) == 0 and
          got3["painted"].get(rgb(got3["unused"]), 0) == 0,
          (got3 and (got3["disabled"], got3["title"], got3["mode"], got3["totals"]), lg, d))


def main():
    work = tempfile.mkdtemp(prefix="ctxpack-html-")
    os.chmod(work, 0o755)
    try:
        ctx = os.path.join(work, "ctx")
        os.mkdir(ctx)
        files = make_tree(ctx)
        stats = stats_doc(ctx, files)
        sj = os.path.join(work, "stats.json")
        with open(sj, "wb") as f:
            # raw UTF-8 (U+2028 and "</" unescaped); lone surrogates as \udcXX
            f.write(json.dumps(stats, ensure_ascii=False).encode("utf-8", "backslashreplace"))
        out_html = os.path.join(work, "report.html")
        r = subprocess.run([RENDER, ctx, sj, out_html], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=120)
        check("html_render writes the page (buildkit)", r.returncode == 0 and
              os.path.getsize(out_html) > 1000, (r.returncode, r.stderr[-300:]))
        classic = os.path.join(work, "classic.html")
        rc = subprocess.run([RENDER, ctx, sj, classic, "--builder=classic"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        check("html_render writes the page (classic)", rc.returncode == 0 and
              os.path.getsize(classic) > 1000, (rc.returncode, rc.stderr[-300:]))
        bad = subprocess.run([RENDER, os.path.join(work, "missing"), sj, os.path.join(work, "x.html")],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        check("a missing context is an error, not a page", bad.returncode == 1 and bad.stderr,
              (bad.returncode, bad.stderr))
        with open(out_html, "rb") as f:
            raw = f.read()
        try:
            page = raw.decode("utf-8")
            enc_ok = True
        except UnicodeDecodeError as e:
            page, enc_ok = raw.decode("utf-8", "replace"), e
        check("the page is UTF-8 (no raw bytes from names)", enc_ok is True, enc_ok)
        got = test_static(page, files, stats)
        if isinstance(got, tuple):
            test_tree(got[1], files)
        test_browser(out_html, stats, work)
        binary = find_chromium()
        dwarf = os.path.join(work, "dwarf")
        os.mkdir(dwarf)
        dfiles = make_dwarf(dwarf)
        dsj = os.path.join(work, "dwarf.json")
        with open(dsj, "w") as f:
            json.dump(dwarf_stats(dwarf, dfiles), f)
        dwarf_html = os.path.join(work, "dwarf.html")
        r = subprocess.run([RENDER, dwarf, dsj, dwarf_html], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=120)
        check("html_render writes the page of a context that sends little", r.returncode == 0,
              r.stderr[-300:])
        try:
            test_use(binary, work)
        except Exception:  # noqa: BLE001
            check("colour by use: the checks ran to their end", False, traceback.format_exc()[-600:])
        if not binary:
            skip("headless Chromium: interaction tests", no_browser_why())
        elif isinstance(got, tuple) and r.returncode == 0:
            dtree = json.loads(parse(open(dwarf_html, encoding="utf-8").read()).scripts[1][1])
            profile = tempfile.mkdtemp(prefix="ctxpack-html-drive-", dir=work)
            for f, args in ((test_views, (out_html, got[1], dwarf_html, dtree)),
                            (test_legend, (out_html, dwarf_html)),
                            (test_labels, (out_html, got[1])),
                            (test_tooltip, (dwarf_html,)),
                            (test_search_sort, (out_html, stats)),
                            (test_extensions, (out_html, got[1], files))):
                try:
                    f(binary, profile, work, *args)
                except Exception:  # noqa: BLE001
                    check("headless Chromium: %s ran to its end" % f.__name__, False,
                          traceback.format_exc()[-600:])
    finally:
        shutil.rmtree(work, ignore_errors=True)

    return tap.finish(1200)

if __name__ == "__main__":
    sys.exit(main())
