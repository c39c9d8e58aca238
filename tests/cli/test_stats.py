#!/usr/bin/env python3
"""End-to-end tests of `ctxpack stats`, `pack --stats` and the CI budgets.

The numbers are checked against the file system (os.walk / lstat) and
against the archive `pack` writes: sent bytes are the member sizes of the
tar, tar_bytes its length, the books balance (scanned + generated = sent +
linked + excluded, excluded = the rules' sum + unattributed), a pruned
directory counts for the rule that pruned it with everything below it.
Budgets: each one broken alone gives exit 4 and one line naming it (dead-rules
then one line per rule); pack
with a broken budget writes nothing.  TAP output.

usage: test_stats.py PATH_TO_CTXPACK"""
import fcntl
import io
import json
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import sys
import tarfile
import termios
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402
check, write = tap.check, tap.write

CTXPACK = os.path.abspath(sys.argv[1])


def run(args, cwd=None, env=None):
    e = {k: v for k, v in os.environ.items() if k not in ("SOURCE_DATE_EPOCH", "NO_COLOR")}
    e.update(env or {})
    p = subprocess.run([CTXPACK] + args, cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=e, timeout=120)
    return p.returncode, p.stdout, p.stderr


def sample_tree():
    d = tap.mkdtemp("ctxpack-stats-")
    write(d, "Dockerfile", b"FROM scratch\nCOPY . /\n")
    write(d, "src/main.c", b"int main(void) { return 0; }\n" * 40)
    write(d, "src/util.h", b"#pragma once\n")
    write(d, "src/big.bin", b"\x01" * 300000)
    write(d, "README.md", b"# readme\n")
    write(d, "notes.md", b"notes\n" * 10)
    write(d, "app.log", b"log line\n" * 100)
    write(d, "logs/keep.log", b"kept\n")
    write(d, "logs/other.log", b"other\n" * 7)
    for i in range(20):  # pruned: never entered, counted from metadata
        write(d, "node_modules/pkg%d/index.js" % i, b"x" * (1000 + i))
        write(d, "node_modules/pkg%d/lib/deep/file.js" % i, b"y" * (50 + i))
    os.symlink("index.js", os.path.join(d, "node_modules/pkg0/alias.js"))
    write(d, "dist/bundle.js", b"z" * 5000)       # sent build output
    write(d, "dist/cache/.cache/x", b"c" * 10)     # below it: not reported again
    os.link(os.path.join(d, "src/main.c"), os.path.join(d, "src/main-link.c"))
    write(d, ".dockerignore",
          b"node_modules\n*.log\n**/*.log\n!logs/keep.log\n*.md\n!README.md\nnever-matches\n")
    return d


def fs_totals(d):
    files = dirs = other = nbytes = 0
    for root, dnames, fnames in os.walk(d):
        for n in dnames:
            if os.path.islink(os.path.join(root, n)):
                other += 1
            else:
                dirs += 1
        for n in fnames:
            st = os.lstat(os.path.join(root, n))
            if os.path.islink(os.path.join(root, n)):
                other += 1
            else:
                files += 1
                nbytes += st.st_size
    return {"files": files, "dirs": dirs, "other": other, "bytes": nbytes}


def tar_members(data):
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as t:
        return [(m.name, m.size, m.type) for m in t.getmembers()]


def rule(doc, pattern):
    return next(r for r in doc["rules"] if r["pattern"] == pattern)


def test_numbers(d, builder):
    tag = builder + ": "
    rc, out, err = run(["stats", "--json", "--builder=" + builder, d])
    check(tag + "stats --json exits 0", rc == 0, err)
    doc = json.loads(out)
    check(tag + "schema version 1 with every section",
          doc["version"] == 2 and all(k in doc for k in (
              "context", "builder", "dockerfile", "ignore_file", "scanned", "sent", "excluded",
              "reduction", "rules", "largest_files", "largest_dirs", "extensions", "suspicious",
              "budgets")), sorted(doc))
    fs = fs_totals(d)
    sc = doc["scanned"]
    check(tag + "scanned = everything under the context, pruned directories included",
          (sc["files"], sc["dirs"], sc["other"], sc["bytes"]) ==
          (fs["files"], fs["dirs"], fs["other"], fs["bytes"]), (sc, fs))
    rc, tar, err = run(["pack", "--builder=" + builder, d])
    members = tar_members(tar)
    sent = doc["sent"]
    check(tag + "sent bytes = the sum of the member sizes in pack's tar",
          sent["bytes"] == sum(m[1] for m in members), (sent, sum(m[1] for m in members)))
    check(tag + "sent entries = pack's members", sent["entries"] == len(members),
          (sent["entries"], len(members)))
    check(tag + "tar_bytes = the length of pack's archive", sent["tar_bytes"] == len(tar),
          (sent["tar_bytes"], len(tar)))
    check(tag + "the hard link's data is counted once (linked_bytes)",
          sent["linked_bytes"] == os.path.getsize(os.path.join(d, "src/main.c")), sent)
    ex = doc["excluded"]
    check(tag + "scanned + generated = sent + linked + excluded (bytes)",
          sc["bytes"] + sent["generated_bytes"] ==
          sent["bytes"] + sent["linked_bytes"] + ex["bytes"], (sc, sent, ex))
    check(tag + "per-rule excluded bytes add up to the excluded bytes",
          sum(r["excluded_bytes"] for r in doc["rules"]) + ex["unattributed_bytes"] ==
          ex["bytes"], doc["rules"])
    nm = fs_totals(os.path.join(d, "node_modules"))
    r = rule(doc, "node_modules")
    check(tag + "the pruning rule gets the whole pruned subtree",
          r["excluded_files"] == nm["files"] and r["excluded_bytes"] == nm["bytes"] and
          r["decided"] == 1 + nm["files"] + nm["dirs"] + nm["other"], (r, nm))
    r = rule(doc, "!logs/keep.log")
    check(tag + "an exception re-includes its file",
          r["included_files"] == 1 and r["included_bytes"] == 5 and r["exception"], r)
    r = rule(doc, "never-matches")
    check(tag + "a rule that decides nothing is dead", r["dead"] and r["decided"] == 0, r)
    # As lint reports them (src/ruleuse.c): '*.log' is redundant, the later
    # '**/*.log' matches all it does.
    check(tag + "no live rule is called dead; a subsumed one is redundant",
          sorted(x["pattern"] for x in doc["rules"] if x["dead"]) == ["*.log", "never-matches"]
          and rule(doc, "*.log")["use"] == "redundant" and not rule(doc, "**/*.log")["dead"],
          [x["pattern"] for x in doc["rules"] if x["dead"]])
    lf = doc["largest_files"]
    check(tag + "largest file first", lf and lf[0]["path"] == "src/big.bin" and
          lf[0]["bytes"] == 300000, lf[:2])
    ld = {x["path"]: x for x in doc["largest_dirs"]}
    want_src = sum(os.path.getsize(os.path.join(d, "src", n))
                   for n in ("main.c", "util.h", "big.bin"))
    check(tag + "a directory's sent bytes are the data below it (the link's once)",
          ld.get("src", {}).get("bytes") == want_src, ld.get("src"))
    ext = {x["ext"]: x for x in doc["extensions"]}
    check(tag + "bytes by extension", ext.get(".bin", {}).get("bytes") == 300000 and
          ext.get(".c", {}).get("files") == 2, doc["extensions"])
    sus = doc["suspicious"]
    check(tag + "sent build output is flagged, once (not what is below it)",
          [(x["path"], x["kind"]) for x in sus] == [("dist", "build-output")], sus)
    red = doc["reduction"]
    want = round(100 * (1 - (sent["bytes"] + sent["linked_bytes"]) / sc["bytes"]), 2)
    check(tag + "reduction = 1 - sent/scanned", abs(red["bytes_pct"] - want) < 0.011, (red, want))


def test_text(d):
    rc, out, err = run(["stats", d])
    text = out.decode()
    check("text report: totals, rules and lists, exit 0",
          rc == 0 and "scanned" in text and "reduction" in text and
          ".dockerignore:1:node_modules" in text and "decides nothing" in text and
          "src/big.bin" in text, text[:2000])
    check("text report: no colour when stdout is not a terminal", "\033[" not in text)
    # Rule use is computed for the text report only when a rule decides
    # nothing; it must then name the same use as the JSON document.
    line = next((x for x in text.splitlines() if "never-matches" in x), "")
    check("text report: a rule that decides nothing is named with its use, as in --json",
          "decides nothing (dead)" in line, line)


def test_used(d):
    # The Dockerfile copies src/ and README.md: read = what is sent below
    # src/ and README.md; transfer (BuildKit) is their stat and data packets.
    df = os.path.join(d, "..", "used.Dockerfile")
    with open(df, "w") as f:
        f.write("FROM scratch\nARG D=src\nCOPY ${D}/ /app/src/\nCOPY README.md /app/\n")
    rc, out, err = run(["stats", "--json", "-f", df, d])
    doc = json.loads(out)
    u, t = doc["used"], doc["transfer"]
    src = fs_totals(os.path.join(d, "src"))
    readme = os.path.getsize(os.path.join(d, "README.md"))
    check("used: the bytes the Dockerfile reads (src/ and README.md)",
          rc == 0 and u["unknown"] is None and u["read"]["bytes"] == src["bytes"] + readme and
          u["read"]["bytes"] + u["unread"]["bytes"] == doc["sent"]["bytes"] +
          doc["sent"]["linked_bytes"] - doc["sent"]["generated_bytes"], (u, src, readme, doc["sent"]))
    ud = [x["path"] for x in u["largest_unread_dirs"]]
    check("used: the largest unread directories, top-most only ('dist', not 'dist/cache')",
          "dist" in ud and not any(p.startswith("dist/") or p.startswith("src") for p in ud), ud)
    ins = [(i["line"], i["instruction"], i["read"]["bytes"]) for i in u["instructions"]]
    check("used: bytes per instruction, in file order",
          ins == [(3, "COPY ${D}/ /app/src/", src["bytes"]), (4, "COPY README.md /app/", readme)],
          ins)
    text = run(["stats", "-f", df, d])[1].decode()
    check("text: 'Dockerfile:4 COPY README.md /app/ reads 9 B'",
          ":4 COPY README.md /app/ reads 9 B (1 files)" in text, text[:1500])
    check("transfer: BuildKit's data is what is read, plus stat packets",
          t is not None and not t["whole_context"] and t["data_bytes"] ==
          u["read"]["bytes"] - os.path.getsize(os.path.join(d, "src/main.c")) and
          t["bytes"] > t["data_bytes"], (t, u))
    # --build-arg D alone: D's value from the environment, as docker build
    # takes it; without D there, the ARG's default (src)
    def read_bytes(env):
        rc, out, _ = run(["stats", "--json", "--build-arg", "D", "-f", df, d], env=env)
        return rc, json.loads(out)["used"]["read"]["bytes"]
    check("--build-arg D with D=dist in the environment: COPY dist/ is what is read",
          read_bytes({"D": "dist"}) == (0, fs_totals(os.path.join(d, "dist"))["bytes"] + readme),
          read_bytes({"D": "dist"}))
    rc, out, _ = run(["stats", "--json", "--build-arg", "D", "-f", df, d], env=None)
    check("--build-arg D with no D in the environment: the ARG's default, src/",
          rc == 0 and json.loads(out)["used"]["read"]["bytes"] == src["bytes"] + readme,
          json.loads(out)["used"]["read"] if rc == 0 else err)
    rc, out, err = run(["stats", "--json", "--builder=classic", "-f", df, d])
    doc = json.loads(out)
    check("classic: used known, no transfer", rc == 0 and doc["transfer"] is None and
          doc["used"]["read"] is not None, doc.get("used"))
    with open(df, "w") as f:
        f.write("FROM scratch\nCOPY [ broken\n")
    rc, out, err = run(["stats", "-f", df, d])
    text = out.decode()
    check("a Dockerfile that cannot be read: the rest reported, exit 0, the reason said",
          rc == 0 and "scanned" in text and "reads is not known" in text, text[-1500:])
    os.unlink(df)


def test_budgets(d):
    rc, out, err = run(["stats", "--json", d])
    doc = json.loads(out)
    tar = doc["sent"]["tar_bytes"]
    cases = [
        ("max-size", ["--max-size", str(tar - 1)], ["--max-size", str(tar)]),
        ("max-files", ["--max-files", str(doc["sent"]["files"] - 1)],
         ["--max-files", str(doc["sent"]["files"])]),
        ("min-reduction", ["--min-reduction", "99.9"], ["--min-reduction", "1"]),
        ("dead-rules", ["--fail-on-dead-rules"], []),
    ]
    for name, broken, kept in cases:
        rc, out, err = run(["stats"] + broken + [d])
        lines = err.decode().splitlines()
        # dead-rules then names each rule on a line of its own.
        named = lines[1:] if name == "dead-rules" else []
        check("stats: budget %s broken: exit 4, one line naming it" % name,
              rc == 4 and len(lines) == 1 + len(named) and ("budget %s broken" % name) in lines[0]
              and all(l.startswith("  .dockerignore:") for l in named)
              and (name != "dead-rules" or len(named) == 2), (rc, err))
        if kept:
            rc, out, err = run(["stats"] + kept + [d])
            check("stats: budget %s kept: exit 0" % name, rc == 0 and not err, (rc, err))
        outdir = tap.mkdtemp("ctxpack-stats-out-")
        rc, out, err = run(["pack"] + broken + [d])
        check("pack: budget %s broken: exit 4, nothing on stdout" % name,
              rc == 4 and out == b"" and ("budget %s broken" % name) in err.decode(), (rc, len(out), err))
        rc, out, err = run(["pack", "-o", os.path.join(outdir, "ctx.tar")] + broken + [d])
        check("pack -o: budget %s broken: exit 4, no file" % name,
              rc == 4 and os.listdir(outdir) == [], (rc, os.listdir(outdir)))
    rc, out, err = run(["stats", "--max-size", "1K", "--max-files", "1", d])
    check("two budgets broken: two lines", rc == 4 and len(err.decode().splitlines()) == 2, err)
    rc, out, err = run(["stats", "--max-size", "12Q", d])
    check("a malformed size is a usage error (exit 2)", rc == 2 and b"--max-size" in err, err)
    rc, out, err = run(["stats", "--min-reduction", "101", d])
    check("a percentage over 100 is a usage error", rc == 2, err)
    rc, out, err = run(["stats", "--json", "--max-size", "1K", d])
    b = json.loads(out)["budgets"]
    check("--json lists the budgets with limit, value and verdict",
          b == [{"name": "max-size", "limit": 1024, "value": tar, "ok": False}], b)


def test_pack_stats(d):
    rc, plain, err = run(["pack", d])
    jf = os.path.join(tap.mkdtemp("ctxpack-stats-json-"), "s.json")
    rc, tar, err = run(["pack", "--stats=" + jf, d])
    doc = json.load(open(jf)) if os.path.exists(jf) else {}
    rc2, sdoc, _ = run(["stats", "--json", d])
    sdoc = json.loads(sdoc)
    check("pack --stats=FILE: the same archive, JSON in FILE with its tar length",
          rc == 0 and tar == plain and doc.get("sent", {}).get("tar_bytes") == len(tar), (rc, err))
    check("pack --stats=FILE equals stats --json (one walk, the same numbers)",
          {k: doc.get(k) for k in ("scanned", "sent", "excluded", "rules")} ==
          {k: sdoc.get(k) for k in ("scanned", "sent", "excluded", "rules")})
    check("stats --json has no archive; pack --stats=FILE names the uncompressed one",
          sdoc.get("archive", 0) is None and
          doc.get("archive") == {"compression": "none", "level": 0, "bytes": len(tar)}, doc.get("archive"))
    for comp, level in (("zstd", 5), ("gzip", 0)):
        rc, z, err = run(["pack", "--compress=" + comp] + (["--level", str(level)] if level else []) +
                         ["--stats=" + jf, d])
        doc = json.load(open(jf)) if rc == 0 else {}
        check(f"pack --compress={comp} --stats=FILE records the compressed archive's size",
              rc == 0 and doc.get("archive") == {"compression": comp, "level": level, "bytes": len(z)}
              and len(z) < len(plain), (rc, err, doc.get("archive")))
    rc, tar, err = run(["pack", "--stats", d])
    check("pack --stats: the report on stderr, the archive unchanged on stdout",
          rc == 0 and tar == plain and b"reduction" in err, (rc, err[:300]))


def test_outside_dockerfile(d):
    outside = tap.mkdtemp("ctxpack-stats-df-")
    df = os.path.join(outside, "Dockerfile")
    with open(df, "wb") as f:
        f.write(b"FROM scratch\n")
    rc, out, err = run(["stats", "--json", "-f", df, d])
    doc = json.loads(out)
    rc, tar, err = run(["pack", "-f", df, d])
    members = tar_members(tar)
    check("a Dockerfile outside the context: counted as generated, still exact",
          doc["sent"]["generated_files"] == 1 and
          doc["sent"]["bytes"] == sum(m[1] for m in members) and
          doc["sent"]["tar_bytes"] == len(tar), (doc["sent"], sum(m[1] for m in members)))


def test_html(d):
    """stats --html: the page carries the same document as --json, and
    headless Chromium (when installed) shows the totals and draws boxes."""
    work = tap.mkdtemp("ctxpack-stats-html-")
    page = os.path.join(work, "report.html")
    rc, out, err = run(["stats", "--html", page, d])
    html = open(page, encoding="utf-8").read() if os.path.exists(page) else ""
    m = re.search(r'<script type="application/json" id="ctxpack-stats">(.*?)</script>', html, re.S)
    rc2, js, _ = run(["stats", "--json", d])
    check("stats --html: exit 0, the text report on stdout, the page written",
          rc == 0 and b"reduction" in out and m, (rc, err))
    embedded = json.loads(m.group(1)) if m else None
    check("stats --html: the page embeds the stats document", embedded == json.loads(js))
    rc, out, err = run(["stats", "--html", os.path.join(work, "no/such/dir/x.html"), d])
    check("stats --html into a missing directory: exit 1, message names it",
          rc == 1 and b"no/such/dir/x.html" in err, err)
    chromium = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                     if shutil.which(n)), None)
    name = "stats --html in headless Chromium: treemap drawn, totals shown"
    if not chromium:
        tap.skip(name, "chromium not installed")
        return
    r = subprocess.run([chromium, "--headless", "--disable-gpu", "--no-sandbox",
                        "--user-data-dir=" + os.path.join(work, "profile"),
                        "--window-size=1280,900", "--dump-dom", "file://" + page],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    dom = r.stdout.decode("utf-8", "replace")
    boxes = re.search(r'id="treemap"[^>]*data-boxes="(\d+)"', dom) or \
        re.search(r'data-boxes="(\d+)"[^>]*id="treemap"', dom)
    sent = re.search(r'id="total-sent"[^>]*data-bytes="(\d+)"', dom) or \
        re.search(r'data-bytes="(\d+)"[^>]*id="total-sent"', dom)
    want = json.loads(js)["sent"]["bytes"]
    check(name, boxes and int(boxes.group(1)) > 0 and sent and int(sent.group(1)) == want,
          (boxes and boxes.group(0), sent and sent.group(0), want, r.stderr[-300:]))


def test_progress(d):
    """The progress line: drawn with --progress=always (or on a terminal),
    cleared at the end; never when stderr is not a terminal by default,
    with --progress=never, or with -q."""
    clear = b"\r\033[K"
    rc, out, err = run(["pack", d])
    check("progress auto, stderr not a terminal: nothing drawn", rc == 0 and clear not in err, err)
    rc, out, err = run(["pack", "--progress=always", d])
    check("pack --progress=always: the line is cleared at the end, the archive unchanged",
          rc == 0 and err.endswith(clear) and out == run(["pack", d])[1], err[-80:])
    rc, out, err = run(["pack", "-q", "--progress=always", d])
    check("pack -q: no progress line", rc == 0 and clear not in err, err)
    rc, out, err = run(["stats", "--progress=never", d])
    check("stats --progress=never: no progress line", rc == 0 and clear not in err, err)
    rc, out, err = run(["stats", "--progress=sometimes", d])
    check("--progress with an unknown value: usage error", rc == 2 and b"--progress" in err, err)
    # A reader that waits 2 s holds pack on a full pipe: the line is
    # redrawn (about six times a second) with the bytes written so far
    # (0.6 s was once too short for a draw under ThreadSanitizer on a
    # loaded machine).
    big = tap.mkdtemp("ctxpack-stats-big-")
    write(big, "Dockerfile", b"FROM scratch\n")
    write(big, "blob", b"\x07" * (8 << 20))
    p = subprocess.Popen("%s pack --progress=always . | (sleep 2; cat >/dev/null)" % CTXPACK,
                         shell=True, cwd=big, stderr=subprocess.PIPE)
    err = p.communicate(timeout=60)[1]
    lines = [x for x in err.split(b"\r") if b"written" in x]
    check("a slow reader: the line shows bytes written and a percentage, then is cleared",
          p.returncode == 0 and lines and b"%" in lines[-1] and err.endswith(clear), err[-300:])
    # On a terminal (auto), the line is drawn there.
    master, slave = pty.openpty()
    p = subprocess.Popen("%s pack . | (sleep 0.6; cat >/dev/null)" % CTXPACK, shell=True,
                         cwd=big, stderr=slave)
    os.close(slave)
    got = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        got += chunk
    p.wait(timeout=60)
    os.close(master)
    check("progress auto, stderr a terminal: the line is drawn and cleared",
          p.returncode == 0 and b"written" in got and got.endswith(clear), got[-200:])


def progress_on_pty(ctx, cols, rate):
    """pack --progress=always with stderr on a pty of cols columns and
    stdout read at about rate bytes/s.  Returns (exit status, archive bytes
    read, the segments drawn: the text between carriage returns, the
    erase-line sequence removed)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
    r, w = os.pipe()
    p = subprocess.Popen([CTXPACK, "pack", "--progress=always", ctx], stdout=w, stderr=slave)
    os.close(w)
    os.close(slave)
    got, err, t0, open_fds = 0, b"", time.monotonic(), [r, master]
    while open_fds:
        ready = select.select(open_fds, [], [], 5)[0]
        if not ready:
            break
        for fd in ready:
            try:
                chunk = os.read(fd, 1 << 20)
            except OSError:
                chunk = b""
            if not chunk:
                open_fds.remove(fd)
            elif fd == r:
                got += len(chunk)
                ahead = got / rate - (time.monotonic() - t0)
                if ahead > 0:
                    time.sleep(ahead)
            else:
                err += chunk
    p.wait(timeout=60)
    os.close(r)
    os.close(master)
    return p.returncode, got, [x.replace(b"\x1b[K", b"") for x in err.split(b"\r")]


def test_progress_line():
    """The line while pack writes (issue seen: a first rate of 524.5 TiB/s,
    a line longer than the terminal wrapping and leaving its rows behind, a
    count that was neither the entries scanned nor the members sent): it
    fits the terminal's width, shows no rate before there is half a second
    to measure it over, and counts members out of the members sent.  A
    sparse 256 MiB file read at about 128 MiB/s: two seconds of drawing."""
    ctx = tap.mkdtemp("ctxpack-progress-")
    write(ctx, "Dockerfile", b"FROM scratch\n")
    for i in range(20):
        write(ctx, "small/f%02d" % i, b"%d\n" % i)
    with open(os.path.join(ctx, "big"), "wb") as f:
        f.truncate(256 << 20)
    members = len(run(["ls", ctx])[1].splitlines())
    rc, got, segs = progress_on_pty(ctx, 40, 128 << 20)
    drawn = [x for x in segs if x.strip()]
    check("progress on a 40-column terminal: every redraw fits in 39 columns",
          rc == 0 and drawn and max(len(x) for x in drawn) <= 39,
          (rc, got, [x for x in drawn if len(x) > 39][:3]))
    rc, got, segs = progress_on_pty(ctx, 200, 128 << 20)
    units = {b"B": 1, b"KiB": 1 << 10, b"MiB": 1 << 20, b"GiB": 1 << 30, b"TiB": 1 << 40,
             b"PiB": 1 << 50}
    rates = [float(m.group(1)) * units[m.group(2)] for x in segs
             for m in [re.search(rb", ([\d.]+) (B|KiB|MiB|GiB|TiB|PiB)/s", x)] if m]
    counts = [m.groups() for x in segs for m in [re.search(rb", (\d+)/(\d+) members$", x)] if m]
    check("progress: every rate shown is at most twice the reader's 128 MiB/s (no first "
          "sample of TiB/s), and rates are shown",
          rc == 0 and rates and max(rates) <= 256 << 20, (rc, rates[:5], segs[:4]))
    check("progress: members counted out of the members sent (as many as ls lists)",
          rc == 0 and counts and all(int(t) == members and int(n) <= members for n, t in counts),
          (counts[-3:], members))


def test_estimate(d):
    rc, out, err = run(["stats", "--json", "--estimate-compression", d])
    c = json.loads(out).get("compression") if rc == 0 else None
    rz, z, _ = run(["pack", "--compress=zstd", "--level=3", d])
    rg, g, _ = run(["pack", "--compress=gzip", "--level=6", d])
    check("--estimate-compression: the sizes pack writes with zstd -3 and gzip -6",
          c and c["zstd_bytes"] == len(z) and c["gzip_bytes"] == len(g), (c, len(z), len(g), err))
    rc, out, err = run(["stats", "--json", d])
    check("without --estimate-compression: compression is null",
          rc == 0 and json.loads(out)["compression"] is None)


def test_unreadable():
    """A directory below an excluded one that cannot be read: the builder
    never reads it, so stats succeeds, leaves it out of the sizes and says
    so (as another user: root reads everything)."""
    name = "an unreadable directory below an excluded one: exit 0, counted, said in the text"
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        tap.skip(name, "needs root and setpriv to run as another user")
        return
    d = tap.tree({"Dockerfile": b"FROM scratch\n", "cache/open/a.bin": b"x" * 1000,
                  "cache/shut/b.bin": b"y" * 5000}, b"cache\n")
    os.chmod(os.path.join(d, "cache", "shut"), 0)
    try:
        nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        p = subprocess.run(nobody + [CTXPACK, "stats", "--json", d], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        t = subprocess.run(nobody + [CTXPACK, "stats", d], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        j = json.loads(p.stdout) if p.returncode == 0 else {}
        ex = j.get("excluded", {})
        check(name, p.returncode == 0 and t.returncode == 0 and ex.get("unreadable_dirs") == 1
              and ex.get("bytes") == 1000 and b"unreadable" in t.stdout
              and b"could not be read" in t.stdout, (p.returncode, ex, t.stdout[:600], p.stderr))
    finally:
        os.chmod(os.path.join(d, "cache", "shut"), 0o755)


def test_errors():
    rc, out, err = run(["stats", "/nonexistent/ctx"])
    check("a missing context: exit 1, message names it", rc == 1 and b"/nonexistent/ctx" in err, err)
    rc, out, err = run(["stats", "a", "b"])
    check("two contexts: usage error", rc == 2, err)


def test_counting():
    """One counting convention: stats' sent counts and digest -v's member
    counts agree on hard links (files without data of their own), a
    socket (BuildKit sends it as an empty regular file; the classic
    builder leaves it out) and the generated members of a Dockerfile from
    outside the context; the reduction in files is the rules' doing only."""
    import socket
    base = tap.mkdtemp("ctxpack-count-")
    ctx = os.path.join(base, "ctx")
    write(ctx, "a", b"hi\n")
    os.makedirs(os.path.join(ctx, "d"))
    os.link(os.path.join(ctx, "a"), os.path.join(ctx, "d", "hard"))
    s = socket.socket(socket.AF_UNIX)
    s.bind(os.path.join(ctx, "sock"))
    write(base, "Dockerfile", b"FROM scratch\nCOPY . /\n")
    df = os.path.join(base, "Dockerfile")
    for builder, files in (("buildkit", 5), ("classic", 4)):
        rc, out, err = run(["stats", "--json", "--builder", builder, "-f", df, ctx])
        sent = json.loads(out)["sent"] if rc == 0 else {}
        rc2, _, err2 = run(["digest", "-v", "--builder", builder, "-f", df, ctx])
        m = re.search(rb"(\d+) members: (\d+) files \(1 hard link\), (\d+) dirs, (\d+) other", err2)
        got = tuple(int(x) for x in m.groups()) if m else None
        check(f"{builder}: stats' sent and digest -v count the same files, dirs and other",
              rc == 0 and rc2 == 0 and got is not None and
              got == (sent.get("entries"), sent.get("files"), sent.get("dirs"), sent.get("other"))
              and got[1] == files and got[3] == 0, (sent, err2))
        rc, out, _ = run(["stats", "--builder", builder, "-f", df, ctx])
        check(f"{builder}: a socket sent as a file is not a negative reduction",
              rc == 0 and b"0.0% of files" in out, out)
    s.close()
    tap.remove_tree(base)


def main():
    d = sample_tree()
    for builder in ("buildkit", "classic"):
        test_numbers(d, builder)
    test_text(d)
    test_used(d)
    test_budgets(d)
    test_pack_stats(d)
    test_outside_dockerfile(d)
    test_html(d)
    test_progress(d)
    test_progress_line()
    test_estimate(d)
    test_unreadable()
    test_errors()
    test_counting()
    return tap.finish()

if __name__ == "__main__":
    sys.exit(main())
