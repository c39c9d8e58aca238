#!/usr/bin/env python3
"""docker_tar_headers.py: src/tarheader.c against the docker CLI's header
bytes, without the tar writer or a file tree.

    docker_tar_headers.py --tar-header PROG --cases docker_tars.jsonl

For each recorded docker tar (tests/tools/docker_tars.jsonl, "docker_tar":
gzip + base64), reads every member's fields back (name and link from the
PAX records or the ustar fields, type, mode, size, mtime, device numbers,
the security.capability record), has PROG (tests/tools/tar_header.c)
format its header from those fields alone, and compares the result with
the member's header blocks in the recorded tar (its PAX 'x' header
included) byte for byte.  TAP, one line per case.
Only the Python standard library is used.
"""

import argparse
import base64
import gzip
import io
import json
import subprocess
import sys
import tarfile

CAP = "SCHILY.xattr.security.capability"


def raw(s):
    return s.encode("utf-8", "surrogateescape")


def members(tar):
    """(fields, header bytes) per member of a tar stream."""
    out = []
    with tarfile.open(fileobj=io.BytesIO(tar), mode="r:",
                      encoding="utf-8", errors="surrogateescape") as tf:
        for m in tf.getmembers():
            name = raw(m.name)
            if m.isdir() and not name.endswith(b"/"):
                name += b"/"  # tarfile drops the '/' Go writes
            cap = m.pax_headers.get(CAP)
            fields = dict(type=m.type.decode("ascii"), mode=m.mode, size=m.size,
                          mtime=int(m.mtime), devmajor=m.devmajor, devminor=m.devminor,
                          name=name, link=raw(m.linkname),
                          cap=None if cap is None else raw(cap))
            out.append((fields, tar[m.offset:m.offset_data]))
    return out


def format_headers(prog, fields):
    inp = b""
    for f in fields:
        inp += ("%s %d %d %d %d %d %d %d %d\n" % (
            f["type"], f["mode"], f["size"], f["mtime"], f["devmajor"], f["devminor"],
            len(f["name"]), len(f["link"]),
            -1 if f["cap"] is None else len(f["cap"]))).encode("ascii")
        inp += f["name"] + f["link"] + (f["cap"] or b"")
    out = subprocess.run([prog], input=inp, stdout=subprocess.PIPE, check=True).stdout
    got = []
    while out:
        line, _, out = out.partition(b"\n")
        if line.startswith(b"error: "):
            got.append(line)
            continue
        n = int(line)
        got.append(out[:n])
        out = out[n:]
    return got


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--tar-header", required=True)
    ap.add_argument("--cases", required=True)
    a = ap.parse_args(argv)
    with open(a.cases) as f:
        cases = [json.loads(l) for l in f if l.strip()]
    print("1..%d" % len(cases))
    failed = 0
    for i, c in enumerate(cases, 1):
        tar = gzip.decompress(base64.b64decode(c["docker_tar"]))
        ms = members(tar)
        got = format_headers(a.tar_header, [f for f, _ in ms])
        bad = [(f["name"], want, g) for (f, want), g in zip(ms, got) if want != g]
        if len(got) != len(ms):
            bad.append((b"(count)", b"%d" % len(ms), b"%d" % len(got)))
        if bad:
            failed += 1
            print("not ok %d - %s: %d of %d headers differ" % (i, c["name"], len(bad), len(ms)))
            for name, want, g in bad[:5]:
                print("#   %r: docker %d bytes, ours %r" % (name, len(want), g[:80]))
        else:
            print("ok %d - %s: %d headers" % (i, c["name"], len(ms)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
