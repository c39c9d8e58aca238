#!/usr/bin/env python3
"""Injected faults: every libc call of the library that can fail is made
to fail, one at a time, through fault_run (tests/fault/fault_run.c, linked
with -Wl,--wrap).  For each configuration below, a fault-free run counts
the calls; then call N of each kind fails, for every N (a spread of about
SPREAD, the first and last few included, where there are more), and every
run must end in one of two ways:

  - success with the same result as the fault-free run (the same archive
    byte for byte, the same digest): the failure was absorbed (a cache or
    an optional optimization gave up, an xattr was read as none, the
    output fell back from copy_file_range to write);
  - an error: status 1, rc a negative errno, a non-empty message that
    names the cause ("out of memory" for an allocation, the errno's text
    for I/O), and for `pack` an output no tar reader takes for complete:
    empty, or stopping inside a block or a member ("short", see
    record.parse_tar); when the failed call was a write into the output
    itself, nothing more can be written there, and the output is a strict
    prefix of the archive (the library reports the failure; the CLI then
    removes an -o file or leaves a cut stream).

Never a signal, a hang, or anything on stderr (AddressSanitizer,
LeakSanitizer and UBSan reports included: in the sanitizer builds every
failure path must free everything).  The output calls (write, splice,
copy_file_range, tee) also fail with ENOSPC and EPIPE, whose messages
must say so.  TAP output.

usage: test_faults.py FAULT_RUN [--spread N] [--jobs N]"""
import argparse
import concurrent.futures
import os
import random
import shutil
import subprocess
import sys
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cli"))
sys.path.insert(0, os.path.join(HERE, "..", "oracle"))
import tap  # noqa: E402
import record  # noqa: E402

ALLOC = {"malloc", "calloc", "realloc", "aligned_alloc", "strdup", "asprintf", "vasprintf",
         "XXH3_createState", "archive_write_new", "archive_read_new", "archive_entry_new"}
OUTPUT = {"write", "splice", "copy_file_range", "tee"}
ERRNO_TEXT = {"EIO": "Input/output error", "ENOSPC": "No space left on device",
              "EPIPE": "Broken pipe"}


def make_tree():
    """A few dozen files: small ones (read ahead), one of 600 KB (read by
    the archiver), one of 1.5 MB (copied by the kernel), a hard link, a
    symlink, an empty directory, excluded and re-included paths; and a
    Dockerfile outside the context."""
    rnd = random.Random(20261128)
    files = {"Dockerfile": b"FROM scratch\nCOPY . /\n"}
    for i in range(30):
        files["src/a/f%02d.txt" % i] = b"file %d\n" % i * (i + 1)
    for i in range(8):
        files["src/b/g%d.bin" % i] = rnd.randbytes(3000 * (i + 1))
    files["mid.bin"] = rnd.randbytes(600_000)
    files["big.bin"] = rnd.randbytes(1_500_000)
    files["node_modules/x/i.js"] = b"x\n"
    files["a.log"] = b"l\n"
    files["keep.log"] = b"k\n"
    d = tap.tree(files, b"node_modules\n*.log\n!keep.log\n", prefix="ctxpack-fault-")
    os.link(os.path.join(d, "src/a/f01.txt"), os.path.join(d, "hard.txt"))
    os.symlink("src/a/f02.txt", os.path.join(d, "sym"))
    os.mkdir(os.path.join(d, "empty"))
    outside = tap.mkdtemp("ctxpack-fault-df-")
    tap.write(outside, "Dockerfile", b"FROM scratch\nCOPY . /app\n")
    return d, os.path.join(outside, "Dockerfile")


def parse(stdout):
    out = {"calls": {}}
    for line in stdout.decode("utf-8", "replace").splitlines():
        if line.startswith("calls "):
            for kv in line.split()[1:]:
                k, v = kv.split("=")
                out["calls"][k] = int(v)
        elif line.startswith("fault="):
            out["fault"] = dict(kv.split("=", 1) for kv in line.split())
        elif "=" in line:
            k, v = line.split("=", 1)
            out[k] = v
    return out


class Config:
    def __init__(self, name, mode, source, extra, what):
        self.name, self.mode, self.source, self.extra, self.what = name, mode, source, extra, what
        self.baseline = None      # bytes (pack) or digest string
        self.cache_seed = None    # cache: the cache file every run starts from
        self.cache_size = None    # cache: size of the file a fault-free run saves


def run_one(fault_run, cfg, work, call=None, nth=None, errno_name=None):
    """Runs fault_run once in a fresh directory; returns a dict with the
    process's outcome and what it left."""
    os.makedirs(work)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAULT_")}
    if call:
        env["FAULT_CALL"] = call
        env["FAULT_NTH"] = str(nth)
    if errno_name:
        env["FAULT_ERRNO"] = errno_name
    out = "-"
    if cfg.mode == "pack":
        out = os.path.join(work, "out.tar")
    elif cfg.mode == "cache":
        out = os.path.join(work, "cache", "ctxpack", "hashes")
        if cfg.cache_seed:
            os.makedirs(os.path.dirname(out))
            shutil.copyfile(cfg.cache_seed, out)
    args = [fault_run, cfg.mode, cfg.source, out] + cfg.extra
    try:
        p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                           timeout=120)
        r = {"status": p.returncode, "stderr": p.stderr, **parse(p.stdout)}
    except subprocess.TimeoutExpired:
        r = {"status": "hung (120 s)", "stderr": b"", "calls": {}}
    if cfg.mode == "pack":
        r["output"] = open(out, "rb").read() if os.path.exists(out) else None
    if cfg.mode == "cache":
        cdir = os.path.dirname(out)
        r["cache_dir"] = sorted(os.listdir(cdir)) if os.path.isdir(cdir) else []
        r["cache_size"] = os.path.getsize(out) if os.path.exists(out) else None
    shutil.rmtree(work, ignore_errors=True)
    return r


def judge(cfg, r, call, errno_name):
    """'' when the run ended in one of the allowed ways, else why not."""
    st = r["status"]
    if not isinstance(st, int) or st < 0:
        return "died: %s" % (("signal %d" % -st) if isinstance(st, int) else st)
    if r["stderr"]:
        return "stderr: %r" % r["stderr"][-1500:]
    if st not in (0, 1) or "rc" not in r:
        return "status %d, stdout %r" % (st, {k: v for k, v in r.items() if k != "output"})
    hit = r.get("fault", {}).get("hit") == "1"
    if cfg.mode == "cache":
        tmp = [n for n in r["cache_dir"] if n != "hashes"]
        if tmp:
            return "left in the cache directory: %r" % tmp
        if r["cache_size"] not in (None, cfg.cache_size, os.path.getsize(cfg.cache_seed)):
            return "cache file of %r bytes (the seed has %d, a fault-free save %d)" % (
                r["cache_size"], os.path.getsize(cfg.cache_seed), cfg.cache_size)
    if st == 0:
        if r["rc"] != "0":
            return "status 0 with rc=%s" % r["rc"]
        if cfg.mode == "pack":
            if r["output"] != cfg.baseline:
                return "success with another archive (%d bytes, expected %d)" % (
                    len(r["output"] or b""), len(cfg.baseline))
        elif r.get("digest") != cfg.baseline and not (cfg.mode == "ls" and hit and
                                                      r.get("unreadable_dirs", "0") != "0"):
            # ls/stats: a directory below a pruned one that could not be
            # read is left out of the sizes and reported as unreadable.
            return "success with another digest %r, expected %r" % (r.get("digest"), cfg.baseline)
        return ""
    # An error.
    if not r["rc"].startswith("-") or not r.get("msg"):
        return "status 1 with rc=%r msg=%r" % (r["rc"], r.get("msg"))
    if not hit:
        return "failed without the fault firing: %r" % r["msg"]
    msg = r["msg"]
    if call in ALLOC:
        if "out of memory" not in msg and "Cannot allocate memory" not in msg:
            return "allocation failure reported as %r" % msg
    elif call == "pthread_create":
        if "Resource temporarily unavailable" not in msg:
            return "thread creation failure reported as %r" % msg
    elif ERRNO_TEXT[errno_name or "EIO"] not in msg:
        return "%s failure reported as %r" % (errno_name or "EIO", msg)
    if cfg.mode == "pack":
        data = r["output"] or b""
        if r.get("fault", {}).get("output") == "1":
            if not (len(data) < len(cfg.baseline) and cfg.baseline.startswith(data)):
                return "output write failed, the output is not a strict prefix of the archive"
        elif data:
            end = tar_end(data, next((c[2:] for c in cfg.extra if c in ("--gzip", "--zstd")),
                                     None))
            if end != "short":
                return "the failed archive ends as %r (%d bytes): not visibly incomplete" % (
                    end, len(data))
    return ""


def tar_end(data, codec):
    """How a stream ends (record.parse_tar): "short" when a reader sees it
    cut.  A gzip or zstd stream cut before its end is "short" too."""
    if codec == "zstd":
        p = subprocess.run(["zstd", "-dcq"], input=data, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        if p.returncode:
            # zstd(1) says "truncated" or "unexpected end" for a cut frame
            err = p.stderr.decode(errors="replace")
            return "short" if ("truncated" in err or "end" in err) else \
                "a corrupt zstd stream (%s)" % err.strip()
        data = p.stdout
    elif codec == "gzip":
        z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            data = z.decompress(data)
        except zlib.error as e:
            return "a corrupt gzip stream (%s)" % e
        if not z.eof:
            return "short"
    return tap.tar_end(data)


def spread(count, n):
    if count <= n:
        return list(range(1, count + 1))
    picks = set(range(1, 6)) | set(range(count - 4, count + 1))
    step = (count - 10) / (n - 10)
    picks |= {int(6 + i * step) for i in range(n - 10)}
    return sorted(p for p in picks if 1 <= p <= count)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("fault_run")
    ap.add_argument("--spread", type=int, default=200,
                    help="at most this many N per call kind and configuration")
    ap.add_argument("--jobs", type=int, default=max(2, os.cpu_count() or 2))
    a = ap.parse_args()
    fault_run = os.path.abspath(a.fault_run)

    ctx, outside_df = make_tree()
    work = tap.mkdtemp("ctxpack-fault-work-")
    configs = [
        Config("pack-file", "pack", ctx, [],
               "pack -o FILE: buildkit, the Dockerfile in the context"),
        Config("pack-pipe-hash", "pack", ctx, ["--pipe", "--hash", "--classic", "-f", outside_df],
               "pack --manifest into a pipe (splice, tee): classic, a Dockerfile outside"),
        Config("pack-gzip", "pack", ctx, ["--gzip", "-j", "2", "--no-openat2"],
               "pack --compress=gzip -j 2, where openat2 is missing"),
        Config("digest", "digest", ctx, ["-f", outside_df],
               "digest --no-cache: a Dockerfile outside"),
        Config("digest-cache", "cache", ctx, [],
               "digest through the hash cache (loaded, hits and misses, saved)"),
        Config("digest-tar", "tar", None, [], "digest of a tar (the pack-file archive)"),
        Config("pack-zstd", "pack", ctx, ["--zstd", "--classic"],
               "pack --compress=zstd: classic"),
        Config("ls-stats", "ls", ctx, ["-j", "2"],
               "ls / stats --duplicates: everything listed, pruned directories sized, "
               "copies hashed"),
        Config("explain", "explain", ctx, ["--classic"],
               "check-ignore -v: every path explained"),
    ]

    # The hash cache: a seed where every file's entry can be trusted (its
    # ctime a second older than the entry), then three files touched, so
    # that a run both answers from the cache and saves new entries.
    seed_dir = tap.mkdtemp("ctxpack-fault-seed-")
    seed = os.path.join(seed_dir, "hashes")
    time.sleep(1.1)
    p = subprocess.run([fault_run, "cache", ctx, seed], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    for name in ("src/a/f03.txt", "src/b/g2.bin", "big.bin"):
        os.utime(os.path.join(ctx, name), (1_600_000_000, 1_600_000_000))
    tap.check("the hash cache seed is written", p.returncode == 0 and os.path.exists(seed),
              (p.returncode, p.stdout, p.stderr))
    configs[4].cache_seed = seed

    total = 0
    t0 = time.monotonic()
    absorbed = []
    for cfg in configs:
        if "--zstd" in cfg.extra and not shutil.which("zstd"):
            tap.skip("%s: %s" % (cfg.name, cfg.what), "zstd(1) not installed: a cut stream "
                     "cannot be told from a whole one")
            continue
        if cfg.mode == "tar":
            cfg.source = os.path.join(work, "baseline.tar")
            with open(cfg.source, "wb") as f:
                f.write(configs[0].baseline or b"")
        base = run_one(fault_run, cfg, os.path.join(work, cfg.name + "-base"))
        ok = base["status"] == 0 and not base["stderr"] and base.get("rc") == "0"
        tap.check("%s: %s: succeeds without a fault" % (cfg.name, cfg.what), ok,
                  {k: v for k, v in base.items() if k != "output"})
        if not ok:
            continue
        if cfg.mode == "pack":
            cfg.baseline = base["output"]
            if cfg.name == "pack-file":
                end = record.parse_tar(cfg.baseline)[1]
                tap.check("pack-file: the fault-free archive is a complete tar", end == "eof", end)
        else:
            cfg.baseline = base["digest"]
        if cfg.mode == "cache":
            cfg.cache_size = base["cache_size"]

        jobs = []
        for call, count in sorted(base["calls"].items()):
            if count == 0:
                continue
            for n in spread(count, a.spread):
                jobs.append((call, n, None))
                if call in OUTPUT:
                    jobs += [(call, n, "ENOSPC"), (call, n, "EPIPE")]
        with concurrent.futures.ThreadPoolExecutor(a.jobs) as ex:
            futs = [(j, ex.submit(run_one, fault_run, cfg,
                                  os.path.join(work, "%s-%s-%d-%s" % (cfg.name, j[0], j[1], j[2])),
                                  *j))
                    for j in jobs]
            results = [(j, f.result()) for j, f in futs]
        total += len(results)
        by_call = {}
        for (call, n, errno_name), r in results:
            key = call + ("/" + errno_name if errno_name else "")
            by_call.setdefault(key, []).append((n, r, judge(cfg, r, call, errno_name)))
        for key, rs in sorted(by_call.items()):
            bad = [(n, why) for n, r, why in rs if why]
            nabs = [n for n, r, why in rs
                    if not why and r["status"] == 0 and r.get("fault", {}).get("hit") == "1"]
            if nabs:
                absorbed.append("%s %s: N=%s" % (cfg.name, key, ",".join(map(str, nabs[:12]))
                                                  + (",..." if len(nabs) > 12 else "")))
            tap.check("%s: %s fails at call N, for %d N of %d: a clean error or the same result"
                      " (%d absorbed)" % (cfg.name, key, len(rs), base["calls"][key.split("/")[0]],
                                          len(nabs)),
                      not bad, bad[:5])
    for line in absorbed:
        print("# absorbed: " + line)
    print("# %d fault runs in %.1f s" % (total, time.monotonic() - t0))
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
