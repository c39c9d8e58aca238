#!/usr/bin/env python3
"""docker_tar_bytes.py: ctxpack's tar writer against the docker CLI's own
tars, byte for byte.

    docker_tar_bytes.py --tar-write EXE --cases docker_tars.jsonl [--live]
        For every case: build its tree (tests/oracle/record.py materialize),
        write the members the docker CLI sent, in its order, with tar_write
        (src/tarwriter.c), and compare the whole stream with docker's: every
        header block, PAX record, data byte and padding, and the end.  The
        docker tar is the one recorded in the case ("docker_tar": gzip +
        base64), or with --live a fresh one from the docker CLI (skipped
        visibly when docker is missing).  Prints TAP; a difference is shown
        field by field (tests/tools/tar_headers.py --diff).
    docker_tar_bytes.py --record OUT --cases SPECS.jsonl
        Runs the docker CLI (classic builder, through tests/oracle's
        stand-in engine) on every spec and writes spec + "docker_tar" to
        OUT.

Cases use the recorder's format (see tests/oracle/record.py); a case whose
tree cannot be built here (devices, xattrs, chown without root) is skipped
with the reason.  Exit 0 when every case matches or is skipped.
"""

import argparse
import base64
import gzip
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "oracle"))
sys.path.insert(0, HERE)
import record  # noqa: E402
import tar_headers  # noqa: E402

EXIT_SKIP = 77


def member_paths(data):
    """Member names in archive order, as paths (a directory's '/' gone)."""
    members, end = record.parse_tar(data)
    out = []
    for m in members:
        name = record.b(m["name"])
        if m["type"] == "5" and name.endswith(b"/"):
            name = name[:-1]
        out.append(name)
    return out, end


def docker_tar(engine, case):
    with record.scratch("dtb.") as tmp:
        ctx = record.materialize(case, tmp)
        res = engine.docker_build(ctx, case.get("args", []))
        if res.tar is None:
            raise RuntimeError("docker sent no context: %s"
                               % res.stderr.decode(errors="replace")[-300:])
        return res.tar


def ours(tar_write, case, paths):
    with record.scratch("dtb.") as tmp:
        ctx = record.materialize(case, tmp)
        out = os.path.join(tmp, "out.tar")
        p = subprocess.run([tar_write, ctx, out], input=b"".join(
            x + b"\0" for x in paths), stderr=subprocess.PIPE)
        if p.returncode != 0:
            raise RuntimeError("tar_write failed: %s"
                               % p.stderr.decode(errors="replace").strip())
        with open(out, "rb") as f:
            return f.read()


def compare(tar_write, cases, live):
    engine = None
    if live:
        import fakeengine
        if fakeengine.docker_cli() is None:
            print("1..0 # SKIP docker CLI not installed")
            return 0
        engine = fakeengine.FakeEngine().start()
    bad = 0
    print("1..%d" % len(cases))
    try:
        for i, c in enumerate(cases, 1):
            name = c["name"]
            try:
                if live:
                    ref = docker_tar(engine, c)
                else:
                    ref = gzip.decompress(base64.b64decode(c["docker_tar"]))
                paths, _ = member_paths(ref)
                mine = ours(tar_write, c, paths)
            except record.Unbuildable as e:
                print("ok %d - %s # SKIP cannot build the tree here: %s"
                      % (i, name, e))
                continue
            except Exception as e:      # reported, not raised
                bad += 1
                print("not ok %d - %s: %s: %s" % (i, name, type(e).__name__, e))
                continue
            if mine == ref:
                print("ok %d - %s (%d bytes identical)" % (i, name, len(ref)))
                continue
            bad += 1
            print("not ok %d - %s: ctxpack's tar differs from docker's "
                  "(A = docker, B = ctxpack)" % (i, name))
            lines = []

            class Out:
                def write(self, s):
                    lines.append(s)
            old, sys.stdout = sys.stdout, Out()
            try:
                tar_headers.diff(ref, mine)
            finally:
                sys.stdout = old
            for line in "".join(lines).splitlines()[:60]:
                print("# " + line)
    finally:
        if engine:
            engine.stop()
    return 1 if bad else 0


def do_record(cases, out):
    import fakeengine
    if fakeengine.docker_cli() is None:
        sys.stderr.write("docker_tar_bytes.py: docker CLI not installed\n")
        return EXIT_SKIP
    res = []
    with fakeengine.FakeEngine() as eng:
        for c in cases:
            c = {k: v for k, v in c.items() if k not in ("expect", "docker_tar")}
            tar = docker_tar(eng, c)
            c["docker_tar"] = base64.b64encode(
                gzip.compress(tar, mtime=0)).decode("ascii")
            res.append(c)
    record.write_cases(out, res)
    sys.stderr.write("docker_tar_bytes.py: recorded %d cases into %s\n"
                     % (len(res), out))
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", required=True)
    ap.add_argument("--tar-write")
    ap.add_argument("--live", action="store_true")
    ap.add_argument("--record", metavar="OUT")
    a = ap.parse_args(argv)
    cases = record.load_cases(a.cases)
    if a.record:
        return do_record(cases, a.record)
    if not a.tar_write:
        ap.error("--tar-write is needed to compare")
    return compare(a.tar_write, cases, a.live)


if __name__ == "__main__":
    sys.exit(main())
