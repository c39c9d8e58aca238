#!/usr/bin/env python3
"""test_digest.py: `ctxpack digest`, `manifest`, `diff`, `pack --manifest`
and `stats --duplicates` end to end (TAP).

usage: test_digest.py CTXPACK

Every run uses its own hash cache (XDG_CACHE_HOME in a temporary
directory), so what is read and what is cached can be asserted."""
import gzip
import io
import json
import os
import subprocess
import sys
import tarfile
import threading
import time

import tap

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import hostile_tars  # noqa: E402

EXE = sys.argv[1]
CACHE = tap.mkdtemp("ctxpack-cache-")
ENV = dict(os.environ, XDG_CACHE_HOME=CACHE)


def run(*args, cwd=None, stdin=None, env=None, timeout=300):
    p = subprocess.run([EXE] + [str(a) for a in args], cwd=cwd, input=stdin,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env or ENV,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def digest(*args, **kw):
    rc, out, err = run("digest", *args, **kw)
    return out.decode().strip() if rc == 0 else "rc=%d %s" % (rc, err)


def digest_json(*args):
    rc, out, err = run("digest", "--json", *args)
    return json.loads(out) if rc == 0 else {"error": err}


def sample_tree():
    files = {"Dockerfile": b"FROM scratch\nCOPY . /\n",
             "big.bin": bytes(range(256)) * 4096 + b"tail",   # > 512 KiB: not read ahead
             "skip/me.log": b"excluded\n",
             "dup/a.txt": b"same content\n", "dup/b.txt": b"same content\n",
             "dup/c.txt": b"other content\n"}
    for i in range(300):
        files["src/m%03d/f%d.py" % (i // 30, i)] = b"print(%d)\n" % i * (i % 7 + 1)
    d = tap.tree(files, b"skip\n*.tmp\n")
    os.symlink("src/m000/f0.py", os.path.join(d, "link"))
    os.link(os.path.join(d, "dup/a.txt"), os.path.join(d, "dup/hard.txt"))
    os.chmod(os.path.join(d, "src/m001/f30.py"), 0o755)
    return d


def age(d, seconds=3600):
    """mtimes an hour back; then wait for the ctimes to leave this second,
    so that the cache trusts what it records (its racy-clean rule)."""
    t = time.time() - seconds
    for root, dirs, files in os.walk(d):
        for n in files:
            p = os.path.join(root, n)
            if not os.path.islink(p):
                os.utime(p, (t, t))
    time.sleep(1.1)


# ---- the digest: stable where it must be, changed where it must ----------
d = sample_tree()
age(d)
base = digest("--no-cache", d)
tap.check("digest prints xxh3-128:<32 hex>", base.startswith("xxh3-128:") and len(base) == 41, base)
tap.check("the same with -j 1 and -j 8", digest("--no-cache", "-j", "1", d) == base ==
          digest("--no-cache", "-j", "8", d), base)
for builder in ("classic", "buildkit"):
    t = os.path.join(tap.mkdtemp(), "c.tar")
    rc, _, err = run("pack", "--builder=" + builder, "-o", t, d)
    dd = digest("--no-cache", "--builder=" + builder, d)
    tap.check("%s: the digest of the directory equals that of the tar pack made" % builder,
              rc == 0 and dd == digest(t), (dd, digest(t), err))
    rc, out, err = run("manifest", "--no-cache", "--builder=" + builder, d)
    rc2, out2, _ = run("manifest", t)
    tap.check("%s: the manifest of the directory equals that of the tar" % builder,
              rc == 0 and out == out2, (out[:400], out2[:400], err))
    with open(t, "rb") as f:
        rc, out3, _ = run("digest", "-", stdin=f.read())
    tap.check("%s: a tar on stdin gives the same digest" % builder,
              rc == 0 and out3.decode().strip() == dd, out3)

# mtime-only changes: a touch of everything
t = time.time() - 7200
for root, dirs, files in os.walk(d):
    for n in files + dirs:
        p = os.path.join(root, n)
        if not os.path.islink(p):
            os.utime(p, (t, t))
time.sleep(1.1)
tap.check("a touch of every file leaves the digest", digest(d) == base, digest(d))
tap.check("--with-mtime sees the touch",
          digest("--with-mtime", d) != digest("--with-mtime", "--no-cache", sample_tree()))

def changed(mutate, name):
    x = sample_tree()
    age(x)
    before = digest(x)
    mutate(x)
    time.sleep(0.01)
    after = digest(x)
    tap.check("the digest changes on %s" % name, before == base and after != before,
              (before, after))

def one_byte(x):
    p = os.path.join(x, "src/m005/f150.py")
    b = bytearray(open(p, "rb").read())
    b[0] ^= 1
    st = os.stat(p)
    with open(p, "r+b") as f:
        f.write(b)
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))   # same size, same mtime

changed(one_byte, "a one-byte edit (same size, mtime restored)")
changed(lambda x: os.chmod(os.path.join(x, "big.bin"), 0o600), "a mode change")
changed(lambda x: os.rename(os.path.join(x, "src/m002/f60.py"), os.path.join(x, "src/m002/g60.py")),
        "a rename")
changed(lambda x: open(os.path.join(x, ".dockerignore"), "ab").write(b"dup\n"),
        "a rule change")
changed(lambda x: (os.unlink(os.path.join(x, "link")), os.symlink("elsewhere", os.path.join(x, "link"))),
        "a symlink's target")
changed(lambda x: open(os.path.join(x, "big.bin"), "r+b").write(b"X"), "a byte in the large file")

# ---- the hash cache ------------------------------------------------------
x = sample_tree()
age(x)
j1 = digest_json(x)
j2 = digest_json(x)
nfiles = j1.get("files_read", -1)
tap.check("a first run reads every sent file", nfiles > 300 and j1.get("files_cached") == 0, j1)
tap.check("a second run of an unchanged tree reads no file content",
          j2.get("files_read") == 0 and j2.get("bytes_read") == 0 and
          j2.get("files_cached") == nfiles and j2.get("digest") == j1.get("digest"), j2)
rc, out, err = run("digest", "--no-cache", "--json", x)
tap.check("--no-cache reads everything again", rc == 0 and json.loads(out)["files_read"] == nfiles, out)

# a same-second, same-size rewrite right after the hash was recorded
y = tap.tree({"Dockerfile": b"FROM scratch\n", "f": b"version 1\n"})
first = digest(y)
p = os.path.join(y, "f")
st = os.stat(p)
with open(p, "r+b") as f:
    f.write(b"version 2\n")
os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
second = digest(y)
tap.check("a same-second, same-size rewrite is caught (the cache does not answer)",
          first != second and second == digest("--no-cache", y), (first, second))

# concurrent runs on one cache
z = sample_tree()
age(z)
results = []
def worker():
    results.append(digest_json(z))
threads = [threading.Thread(target=worker) for _ in range(4)]
for t_ in threads:
    t_.start()
for t_ in threads:
    t_.join()
after = digest_json(z)
cache_dir = os.path.join(CACHE, "ctxpack")
leftovers = [n for n in os.listdir(cache_dir) if n != "hashes"]
tap.check("four concurrent runs agree",
          len({r.get("digest") for r in results}) == 1 and results[0].get("digest") == after.get("digest"),
          results)
tap.check("the cache survives concurrent runs: valid, complete, no temporary files left",
          after.get("files_read") == 0 and not leftovers, (after, leftovers))
with open(os.path.join(cache_dir, "hashes"), "r+b") as f:
    f.seek(40)
    f.write(b"garbage")
rc, out, err = run("digest", "--json", z)
tap.check("a damaged cache is ignored and rewritten",
          rc == 0 and json.loads(out)["digest"] == after.get("digest") and
          json.loads(out)["files_read"] > 0 and digest_json(z).get("files_read") == 0, (out, err))

# ---- manifests -----------------------------------------------------------
rc, tsv, err = run("manifest", d)
lines = tsv.decode().splitlines()
tap.check("manifest: a header line, then one line per member", rc == 0 and
          lines[0].startswith("# ctxpack manifest v2\t") and len(lines) > 300, lines[:3])
tap.check("manifest: an end line with the member count",
          lines[-1] == "# end of ctxpack manifest v2\t%d" % (len(lines) - 2), lines[-2:])
row = [line for line in lines if line.endswith("\tdup/hard.txt\tdup/a.txt")]
tap.check("manifest: a hard link names its first member", len(row) == 1, lines[:20])
rc, js, err = run("manifest", "--json", d)
doc = json.loads(js) if rc == 0 else {}
tap.check("manifest --json parses and lists the same members",
          doc.get("manifest") == 1 and len(doc.get("members", [])) == len(lines) - 2, err)
mf = os.path.join(tap.mkdtemp(), "m.tsv")
open(mf, "wb").write(tsv)
mj = os.path.join(tap.mkdtemp(), "m.json")
open(mj, "wb").write(js)
tap.check("a manifest (TSV or JSON) digests like its context",
          digest(mf) == digest(d) == digest(mj), (digest(mf), digest(mj), digest(d)))
# A TSV cut at a line boundary is refused (before the end line, it would
# have read as a smaller context with exit 0), on every line.
cutf = os.path.join(tap.mkdtemp(), "cut.tsv")
bad = []
ends = [i + 1 for i, c in enumerate(tsv) if c == 0x0a]
for n, at in enumerate(ends[:-1], 2):
    open(cutf, "wb").write(tsv[:at])
    rc, out, err = run("digest", cutf)
    if rc != 1 or out or "%s:%d: manifest is cut: no end line" % (cutf, n) not in err:
        bad.append((at, rc, out, err))
tap.check("a TSV manifest cut at any of its %d line boundaries: exit 1, 'manifest is cut'" %
          (len(ends) - 1), not bad and len(ends) > 300, bad[:3])
rc, out, err = run("digest", "-", stdin=tsv[:ends[-1] - 2])
tap.check("a TSV manifest cut inside its end line: exit 1", rc == 1 and not out and
          "<stdin>:%d: manifest is cut" % len(ends) in err, err)
old = tsv.replace(b"# ctxpack manifest v2\t", b"# ctxpack manifest v1\t", 1)
old = old[:old.rindex(b"# end of")]
open(cutf, "wb").write(old)
rc, out, err = run("diff", cutf, d)
tap.check("a v1 manifest (no end line) is refused, saying why: diff exits 2",
          rc == 2 and "unsupported manifest version 1 (it has no end line; write the manifest "
          "again)" in err, err)

# pack --manifest: hashed in the reads that archive
for extra in ([], ["--compress=zstd"]):
    out_dir = tap.mkdtemp()
    t = os.path.join(out_dir, "c.tar")
    m = os.path.join(out_dir, "c.manifest")
    rc, _, err = run("pack", "-o", t, "--manifest", m, *extra, d)
    rc2, mt, _ = run("manifest", t)
    tap.check("pack %s--manifest equals `manifest` of the directory and of the tar" %
              (" ".join(extra) + " " if extra else ""),
              rc == 0 and open(m, "rb").read() == tsv == mt, err)
# into a pipe: large files are spliced, tee'd and hashed from one read
m = os.path.join(tap.mkdtemp(), "p.manifest")
rc, piped, err = run("pack", "--manifest", m, d)
rc2, plain, _ = run("pack", d)
rc3, mt, _ = run("manifest", "-", stdin=piped)
tap.check("pack --manifest into a pipe: the same archive as without, and the same manifest",
          rc == 0 and rc2 == 0 and piped == plain and open(m, "rb").read() == tsv == mt,
          (len(piped), len(plain), err))
rc, out, err = run("pack", "--manifest", "/nonexistent/dir/m", "-o", os.path.join(tap.mkdtemp(), "x.tar"), d)
tap.check("pack --manifest into an impossible path fails and says where",
          rc == 1 and "/nonexistent/dir/m" in err, err)

# ---- diff ----------------------------------------------------------------
a = sample_tree()
b = sample_tree()
rc, out, err = run("diff", a, b)
tap.check("diff of equal trees: exit 0, identical", rc == 0 and b"identical" in out, out + err.encode())
open(os.path.join(b, "src/m000/f1.py"), "ab").write(b"# more\n")
os.chmod(os.path.join(b, "big.bin"), 0o700)
os.unlink(os.path.join(b, "dup/c.txt"))
open(os.path.join(b, "new.txt"), "wb").write(b"n" * 2048)
os.unlink(os.path.join(b, "link"))
os.mkdir(os.path.join(b, "link"))
rc, out, err = run("diff", "--json", a, b)
doc = json.loads(out) if out else {}
ch = {c["path"]: c["changes"] for c in doc.get("changes", [])}
tap.check("diff: exit 1 when the contexts differ", rc == 1, err)
tap.check("diff --json: added, removed, content, mode and type, by path",
          ch.get("new.txt") == ["added"] and ch.get("dup/c.txt") == ["removed"] and
          ch.get("src/m000/f1.py") == ["content"] and ch.get("big.bin") == ["mode"] and
          ch.get("link") == ["type"] and len(ch) == 5, ch)
s = doc.get("summary", {})
tap.check("diff --json: the summary counts and bytes",
          s.get("added") == 1 and s.get("removed") == 1 and s.get("changed") == 3 and
          s.get("added_bytes") == 2048 and s.get("removed_bytes") == 14, s)
t = os.path.join(tap.mkdtemp(), "a.tar")
run("pack", "-o", t, a)
rc, out, err = run("diff", t, b)
text = out.decode()
tap.check("diff of a tar against a directory, in text",
          rc == 1 and "added    file" in text and "new.txt" in text and
          "mode 0644 -> 0700" in text and "type symlink -> dir" in text and
          "1 added (2.0 KiB), 1 removed (14 B), 3 changed" in text, text)
# a renamed directory: one line per file, old -> new, not an added and a
# removed line each; a small change to a large file in exact bytes
ra, rb = tap.mkdtemp(), tap.mkdtemp()
for top in (ra, rb):
    for i in range(24):
        tap.write(top, f"{'old' if top == ra else 'new'}/f{i}", b"file %d\n" % i)
    tap.write(top, "big", b"x" * 211456 + (b"" if top == ra else b"yy"))
    tap.write(top, "same", b"a" * 100 if top == ra else b"b" * 100)
    tap.write(top, "Dockerfile", b"FROM scratch\n")
rc, out, err = run("diff", ra, rb)
text = out.decode()
tap.check("diff: a renamed directory's files are one 'renamed' line each",
          rc == 1 and text.count("renamed  file") == 24 and "old/f7 -> new/f7" in text and
          "added    file" not in text and "removed  file" not in text and
          "24 renamed" in text and len(text.splitlines()) <= 32, text)
tap.check("diff: a +2 B change to a 206.5 KiB file is shown in bytes",
          "content 211456 B -> 211458 B (+2 B)" in text, text)
tap.check("diff: new content of the same size says so",
          "same (content, the same size 100 B)" in text, text)
rc, out, err = run("diff", mf, d)
tap.check("diff of a manifest against its directory: identical", rc == 0, out + err.encode())
rc, out, err = run("diff", a)
tap.check("diff with one operand is a usage error (2)", rc == 2 and "two" in err, err)
rc, out, err = run("diff", "-", "-", stdin=open(t, "rb").read())
tap.check("diff - -: one stdin cannot be both sides, a usage error (2)",
          rc == 2 and not out and "'-' given for both sides: stdin can be only one of them" in err,
          err)
rc, out, err = run("diff", a, "/nonexistent")
tap.check("diff with a missing operand: exit 2, the path named", rc == 2 and "/nonexistent" in err, err)

# ---- bad input -------------------------------------------------------------
t = os.path.join(tap.mkdtemp(), "c.tar")
run("pack", "-o", t, d)
data = open(t, "rb").read()
cut = os.path.join(tap.mkdtemp(), "cut.tar")
open(cut, "wb").write(data[:len(data) // 2 + 100])
rc, out, err = run("digest", cut)
tap.check("a truncated tar is an error, not a shorter context", rc == 1 and "cut.tar" in err and not out, err)
# A cut compressed tar says that the compressed stream is cut (not "not a
# tar archive"), before the first header and inside a member.
zdir = tap.mkdtemp()
bigt = os.path.join(zdir, "big.tar")
noise = tap.tree({"Dockerfile": b"FROM scratch\n", "noise": os.urandom(600000)})
run("pack", "-o", bigt, noise)
for kind in ("gzip", "zstd"):
    z = os.path.join(zdir, "x.tar." + ("gz" if kind == "gzip" else "zst"))
    rc, _, err = run("pack", "--compress=" + kind, "-o", z, noise)
    blob = open(z, "rb").read()
    for at, what in ((40, ""), (len(blob) // 2, "cannot read member 'noise': ")):
        open(z, "wb").write(blob[:at])
        rc, out, err = run("digest", z)
        want = "%s: %sthe %s stream is cut (truncated %s input)" % (z, what, kind, kind)
        tap.check("a %s tar cut at %d of %d bytes: '%s'" % (kind, at, len(blob), want[len(z) + 2:]),
                  rc == 1 and not out and want in err, err)
junk = os.path.join(tap.mkdtemp(), "junk")
open(junk, "wb").write(b"this is not an archive\n" * 10)
rc, out, err = run("digest", junk)
tap.check("a file that is not a tar or manifest is an error", rc == 1 and "junk" in err, err)

# Tars that declare more than they hold: sparse members of an exabyte in
# ~200 bytes of gzip, negative and overflowing sizes, broken sparse maps.
# Each is refused at once, naming the member (a timeout here is the bug).
hdir = tap.mkdtemp()
hcases = hostile_tars.cases()
dense = hostile_tars.ok_contents()
for name, data in sorted(hcases.items()):
    for suffix, blob in ((".tar", data), (".tar.gz", gzip.compress(data, mtime=0))):
        p = os.path.join(hdir, name + suffix)
        open(p, "wb").write(blob)
        try:
            rc, out, err = run("digest", p, timeout=60)
        except subprocess.TimeoutExpired:
            rc, out, err = -1, b"", "timed out"
        if name.endswith(".ok"):
            # the holes read as zeros: the digest of the same file, dense
            ref = os.path.join(hdir, name + ".dense.tar")
            with tarfile.open(ref, "w", format=tarfile.USTAR_FORMAT) as tf:
                ti = tarfile.TarInfo("x")
                ti.size, ti.mode, ti.mtime = len(dense[name]), 0o644, 1700000000
                tf.addfile(ti, io.BytesIO(dense[name]))
            tap.check("hostile tar %s%s: read, the holes as zeros" % (name, suffix),
                      rc == 0 and out.decode().strip() == digest(ref), (out, err, digest(ref)))
        else:
            tap.check("hostile tar %s%s (%d bytes): refused, naming it and the cause" %
                      (name, suffix, len(blob)),
                      rc == 1 and not out and p in err and hostile_tars.cause(name) in err and
                      ("'x'" in err or "size" in err), err)
p = os.path.join(hdir, "pax10-1eib.tar.gz")
rc, out, err = run("manifest", p, timeout=60)
tap.check("manifest of an exabyte sparse member: refused at once",
          rc == 1 and not out and "'x': sparse member declares 1 EiB (more than ctxpack reads: "
          "1 GiB of holes per member)" in err, err)
rc, out, err = run("diff", p, p, timeout=60)
tap.check("diff with an exabyte sparse member: exit 2 at once",
          rc == 2 and "sparse member declares 1 EiB" in err, err)

u = tap.tree({"Dockerfile": b"FROM scratch\n", "secret": b"s"})
if os.geteuid() == 0:
    tap.skip("an unreadable file fails the digest, naming it", "running as root")
else:
    os.chmod(os.path.join(u, "secret"), 0)
    rc, out, err = run("digest", u)
    tap.check("an unreadable file fails the digest, naming it", rc == 1 and "secret" in err and not out, err)
# With the Dockerfile outside, pack appends its name to .dockerignore: a
# .dockerignore that is a symlink cannot take it, in digest as in pack.
sl = tap.tree({"a.txt": b"a\n", "rules": b"*.tmp\n"})
os.symlink("rules", os.path.join(sl, ".dockerignore"))
outside_df = os.path.join(tap.tree({"Dockerfile": b"FROM scratch\n"}), "Dockerfile")
rc, out, err = run("digest", "--no-cache", "-f", outside_df, sl)
rcp, _, errp = run("pack", "-f", outside_df, sl)
tap.check("-f outside and a symlinked .dockerignore: digest fails as pack does",
          rc == 1 and rcp == 1 and err == errp and "'.dockerignore' is not a regular file" in err,
          (rc, err, rcp, errp))
nc = dict(ENV, XDG_CACHE_HOME="/proc/ctxpack-no-such-dir", HOME="/proc")
rc, out, err = run("digest", d, env=nc)
tap.check("a cache that cannot be saved warns and the digest stands",
          rc == 0 and out.decode().strip() == base and "warning" in err, (out, err))

# ---- stats --duplicates --------------------------------------------------
e = tap.tree({"Dockerfile": b"FROM scratch\n", "a/x.bin": b"A" * 5000, "b/x.bin": b"A" * 5000,
              "c/x.bin": b"A" * 5000, "d/y.bin": b"B" * 5000, "e/z": b"C" * 100, "f/z": b"C" * 100,
              "g/empty": b"", "h/empty": b""})
os.link(os.path.join(e, "d/y.bin"), os.path.join(e, "d/y-link.bin"))
rc, out, err = run("stats", "--json", "--duplicates", e)
dup = json.loads(out).get("duplicates", {}) if rc == 0 else {}
tap.check("stats --duplicates: groups, files and repeated bytes (hard links and empty files are not copies)",
          dup.get("groups") == 2 and dup.get("files") == 5 and dup.get("repeated_bytes") == 10100, (dup, err))
top = dup.get("top", [{}])
tap.check("stats --duplicates: the largest group first, with its paths",
          top[0].get("paths") == ["a/x.bin", "b/x.bin", "c/x.bin"] and top[0].get("repeated_bytes") == 10000, top)
rc, out, err = run("stats", "--duplicates", e)
tap.check("stats --duplicates in text", rc == 0 and b"duplicate content: 5 files in 2 groups" in out, out)
rc, out, err = run("stats", "--json", e)
tap.check("stats without --duplicates reads no content and has no such section",
          rc == 0 and "duplicates" not in json.loads(out), out[:200])

sys.exit(tap.finish())
