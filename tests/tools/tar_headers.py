#!/usr/bin/env python3
"""tar_headers.py: dump the header fields of a tar stream, for diffing
ctxpack's tars against the docker CLI's (Go archive/tar) byte for byte.

    tar_headers.py [--json | --raw] FILE.tar [...]
        --json (default): one JSON object per member, with the fields the
            oracle recorder writes (tests/oracle/record.py parse_tar: name,
            type, mode, uid, gid, size, mtime, linkname, magic, uname, gname,
            devmajor/devminor for devices, pax records), then the end of the
            archive ("eof", "eof1", "none", "short", "eof+N").
        --raw: one line per 512-byte header block (PAX 'x' blocks included)
            with every field's exact bytes (escaped), the PAX payload and the
            end; `diff <(tar_headers.py --raw a.tar) <(tar_headers.py --raw
            b.tar)` shows each byte that differs and in which field.
    tar_headers.py --diff A.tar B.tar
        Compares two tars block by block and field by field; prints each
        difference and exits 1 if there is any, 0 if the tars are identical.

gzip and zstd input is decompressed first (zstd with the zstd program).
Names and values that are not UTF-8 are shown with surrogateescape
(\\udcff for a raw 0xff byte), as in tests/vectors/*.jsonl.
Only the Python standard library is used.
"""

import gzip
import json
import signal
import subprocess
import os
import sys

# ustar field layout: (name, offset, size, kind)
FIELDS = [
    ("name", 0, 100, "str"),
    ("mode", 100, 8, "num"),
    ("uid", 108, 8, "num"),
    ("gid", 116, 8, "num"),
    ("size", 124, 12, "num"),
    ("mtime", 136, 12, "num"),
    ("chksum", 148, 8, "num"),
    ("typeflag", 156, 1, "str"),
    ("linkname", 157, 100, "str"),
    ("magic", 257, 6, "str"),
    ("version", 263, 2, "str"),
    ("uname", 265, 32, "str"),
    ("gname", 297, 32, "str"),
    ("devmajor", 329, 8, "num"),
    ("devminor", 337, 8, "num"),
    ("prefix", 345, 155, "str"),
    ("pad", 500, 12, "str"),
]
ZERO = bytes(512)


# The field decoders are the oracle's (tests/oracle/record.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "oracle"))
from record import s, _cstr as cstr, _num as num  # noqa: E402


def esc(bs):
    """Exact bytes, printable ASCII as is, everything else \\xHH; runs of
    trailing NULs are shortened to \\0*N so lines stay readable."""
    stripped = bs.rstrip(b"\0")
    tail = len(bs) - len(stripped)
    out = []
    for c in stripped:
        if 0x20 < c < 0x7f and c != 0x5c:
            out.append(chr(c))
        else:
            out.append("\\x%02x" % c)
    if tail:
        out.append("\\0*%d" % tail)
    return "".join(out)


def parse_pax(payload):
    recs = []
    pos = 0
    while pos < len(payload):
        sp = payload.index(b" ", pos)
        ln = int(payload[pos:sp])
        rec = payload[sp + 1:pos + ln - 1]
        k, _, v = rec.partition(b"=")
        recs.append((k, v))
        pos += ln
    return recs


def blocks(data):
    """Yields ("hdr", offset, block, payload) for every header block (the
    payload is the member's data for x/g/L/K blocks, else None) and finally
    ("end", offset, kind, None).  A PAX size record sets the length of the
    next member's data."""
    pos = 0
    pax_size = None
    while True:
        if pos == len(data):
            yield ("end", pos, "none", None)
            return
        if pos + 512 > len(data):
            yield ("end", pos, "short", None)
            return
        blk = data[pos:pos + 512]
        if blk == ZERO:
            if data[pos + 512:pos + 1024] == ZERO:
                extra = len(data) - (pos + 1024)
                yield ("end", pos, "eof" + ("+%d" % extra if extra else ""),
                       None)
            else:
                yield ("end", pos, "eof1", None)
            return
        size = num(blk[124:136])
        typ = chr(blk[156])
        payload = None
        if typ in "xXgLK":
            payload = data[pos + 512:pos + 512 + size]
        yield ("hdr", pos, blk, payload)
        if typ in "xX":
            for k, v in parse_pax(payload):
                if k == b"size":
                    pax_size = int(v)
        elif typ not in "gLK":
            if pax_size is not None:
                size = pax_size
            pax_size = None
        pos += 512 + (size + 511) // 512 * 512


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    elif data[:4] == b"\x28\xb5\x2f\xfd":
        data = subprocess.run(["zstd", "-dc"], input=data, check=True,
                              stdout=subprocess.PIPE).stdout
    return data


def checksum_ok(blk):
    return num(blk[148:156]) == sum(blk[:148]) + 256 + sum(blk[156:])


def raw_lines(data):
    lines = []
    for kind, off, blk, payload in blocks(data):
        if kind == "end":
            lines.append("end %s" % blk)
            break
        parts = ["%s=%s" % (n, esc(blk[o:o + ln])) for n, o, ln, _ in FIELDS]
        if not checksum_ok(blk):
            parts.append("BAD-CHECKSUM")
        lines.append("hdr " + " ".join(parts))
        if payload is not None:
            lines.append("  payload=%s" % esc(payload))
    return lines


def json_members(data):
    members = []
    pax = []
    gnu_name = gnu_link = None
    end = None
    for kind, off, blk, payload in blocks(data):
        if kind == "end":
            end = blk
            break
        typ = chr(blk[156])
        if typ in "xX":
            pax = parse_pax(payload)
            continue
        if typ == "L":
            gnu_name = cstr(payload)
            continue
        if typ == "K":
            gnu_link = cstr(payload)
            continue
        name = cstr(blk[0:100])
        if blk[257:263] == b"ustar\0" and cstr(blk[345:500]):
            name = cstr(blk[345:500]) + b"/" + name
        if gnu_name is not None:
            name = gnu_name
        link = cstr(blk[157:257])
        if gnu_link is not None:
            link = gnu_link
        m = {"name": s(name), "type": typ, "mode": "%04o" % num(blk[100:108]),
             "uid": num(blk[108:116]), "gid": num(blk[116:124]),
             "size": num(blk[124:136]), "mtime": num(blk[136:148]),
             "linkname": s(link), "magic": s(blk[257:265]),
             "uname": s(cstr(blk[265:297])), "gname": s(cstr(blk[297:329]))}
        if typ in "34":
            m["devmajor"] = num(blk[329:337])
            m["devminor"] = num(blk[337:345])
        if pax:
            m["pax"] = [[s(k), s(v)] for k, v in pax]
            for k, v in pax:
                if k == b"path":
                    m["name"] = s(v)
                elif k == b"linkpath":
                    m["linkname"] = s(v)
                elif k == b"size":
                    m["size"] = int(v)
        if gnu_name is not None or gnu_link is not None:
            m["gnu_long"] = True
        if not checksum_ok(blk):
            m["bad_checksum"] = True
        pax, gnu_name, gnu_link = [], None, None
        members.append(m)
    return members, end


def diff(a, b):
    la, lb = raw_lines(a), raw_lines(b)
    bad = 0
    for i in range(max(len(la), len(lb))):
        x = la[i] if i < len(la) else "(missing)"
        y = lb[i] if i < len(lb) else "(missing)"
        if x == y:
            continue
        bad += 1
        fx = dict(p.split("=", 1) for p in x.split(" ")[1:] if "=" in p) \
            if x.startswith("hdr ") else None
        fy = dict(p.split("=", 1) for p in y.split(" ")[1:] if "=" in p) \
            if y.startswith("hdr ") else None
        if fx is not None and fy is not None:
            print("block %d (%s):" % (i, fx.get("name", "")))
            for n, _, _, _ in FIELDS:
                if fx.get(n) != fy.get(n):
                    print("  %-8s A=%s" % (n, fx.get(n)))
                    print("  %-8s B=%s" % ("", fy.get(n)))
        else:
            print("line %d:\n  A: %s\n  B: %s" % (i, x, y))
    if a != b and not bad:
        print("headers identical; member data or padding differs")
        bad = 1
    return 1 if bad else 0


def main(argv):
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)   # `| head` ends quietly
    args = argv[1:]
    if not args or args[0] in ("-h", "--help"):
        sys.stdout.write(__doc__)
        return 0 if args else 2
    if args[0] == "--diff":
        if len(args) != 3:
            sys.stderr.write("usage: tar_headers.py --diff A.tar B.tar\n")
            return 2
        return diff(load(args[1]), load(args[2]))
    mode = "json"
    if args[0] in ("--json", "--raw"):
        mode = args.pop(0)[2:]
    for path in args:
        data = load(path)
        if len(args) > 1:
            print("# %s" % path)
        if mode == "raw":
            for line in raw_lines(data):
                print(line)
            continue
        members, end = json_members(data)
        for m in members:
            print(json.dumps(m, ensure_ascii=True))
        print(json.dumps({"end": end}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
