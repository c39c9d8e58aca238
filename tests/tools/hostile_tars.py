#!/usr/bin/env python3
"""hostile_tars.py: tars written byte by byte that declare more than they
hold: sparse members (GNU old 'S', PAX 0.0, 0.1 and 1.0) whose holes make
them exabytes long, negative and overflowing PAX sizes, sparse maps that
run past their size or overlap.  Used by tests/cli/test_digest.py and to
write the fuzz seeds of tests/fuzz/corpus/members.

    hostile_tars.py DIR     writes every case into DIR (NAME.tar, NAME.tar.gz)

Only the Python standard library is used."""
import gzip
import os
import sys

EIB = 1 << 60


def _octal(v, width):
    return b"%0*o\0" % (width - 1, v)


def header(name, typ, size, magic=b"ustar\x0000", extra=None):
    """One 512-byte header.  size: the size field (int; >= 8**11 is written
    base-256, as GNU tar does).  extra: {offset: bytes} written before the
    checksum (GNU sparse fields)."""
    h = bytearray(512)
    h[0:len(name)] = name
    h[100:108] = _octal(0o644, 8)
    h[108:116] = _octal(0, 8)
    h[116:124] = _octal(0, 8)
    if 0 <= size < 8 ** 11:
        h[124:136] = _octal(size, 12)
    else:
        h[124:136] = (size % (1 << 95)).to_bytes(12, "big")
        h[124] |= 0x80
    h[136:148] = _octal(1700000000, 12)
    h[156:157] = typ
    h[257:265] = magic
    for off, val in (extra or {}).items():
        h[off:off + len(val)] = val
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def pad(data):
    return data + bytes(-len(data) % 512)


def pax_records(recs):
    out = b""
    for k, v in recs:
        body = b" " + k + b"=" + v + b"\n"
        n = len(body) + 1
        while len(b"%d" % n) + len(body) != n:
            n += 1
        out += b"%d" % n + body
    return out


def pax_member(recs, name, typ, size, data, magic=b"ustar\x0000"):
    p = pax_records(recs)
    return (header(b"PaxHeaders/" + name[:80], b"x", len(p)) + pad(p) +
            header(name, typ, size, magic) + pad(data))


END = bytes(1024)


def gnu_old_sparse(name, realsize, chunks, data):
    """GNU tar's old sparse format: type 'S', up to 4 (offset, numbytes)
    pairs in the header, the real size at 483; data holds the chunks'
    bytes back to back."""
    extra = {483: _octal(realsize, 12) if realsize < 8 ** 11 else
             ((realsize % (1 << 95)) | (1 << 95)).to_bytes(12, "big")}
    for i, (off, n) in enumerate(chunks[:4]):
        extra[386 + 24 * i] = _octal(off, 12)
        extra[386 + 24 * i + 12] = _octal(n, 12)
    return header(name, b"S", len(data), magic=b"ustar  \0", extra=extra) + pad(data)


def pax00_sparse(name, realsize, chunks, data):
    recs = [(b"GNU.sparse.size", b"%d" % realsize),
            (b"GNU.sparse.numblocks", b"%d" % len(chunks))]
    for off, n in chunks:
        recs += [(b"GNU.sparse.offset", b"%d" % off), (b"GNU.sparse.numbytes", b"%d" % n)]
    return pax_member(recs, name, b"0", len(data), data)


def pax01_sparse(name, realsize, chunks, data):
    m = b",".join(b"%d,%d" % c for c in chunks)
    recs = [(b"GNU.sparse.size", b"%d" % realsize),
            (b"GNU.sparse.numblocks", b"%d" % len(chunks)),
            (b"GNU.sparse.map", m)]
    return pax_member(recs, name, b"0", len(data), data)


def pax10_sparse(name, realsize, chunks, data, realsize_text=None):
    """PAX 1.0: the map is the first block(s) of the data, in decimal lines."""
    m = b"%d\n" % len(chunks) + b"".join(b"%d\n%d\n" % c for c in chunks)
    body = pad(m) + data
    recs = [(b"GNU.sparse.major", b"1"), (b"GNU.sparse.minor", b"0"),
            (b"GNU.sparse.name", name),
            (b"GNU.sparse.realsize", realsize_text or b"%d" % realsize)]
    return pax_member(recs, b"GNUSparseFile.0/" + name, b"0", len(body), body)


def cases():
    """{name: tar bytes}.  A name ending in .ok must be read; every other
    case must be refused."""
    d = b"data" * 4
    c = {}
    # Exabytes of holes, in every sparse dialect.
    c["gnu-old-1eib"] = gnu_old_sparse(b"x", EIB, [(0, 16)], d) + END
    c["pax00-1eib"] = pax00_sparse(b"x", EIB, [(0, 16)], d) + END
    c["pax01-1eib"] = pax01_sparse(b"x", EIB, [(0, 16)], d) + END
    c["pax10-1eib"] = pax10_sparse(b"x", EIB, [(0, 16)], d) + END
    c["pax10-chunk-at-1eib"] = pax10_sparse(b"x", EIB + 16, [(EIB, 16)], d) + END
    # 2 GiB of holes: more than one member may hold.
    c["pax01-2gib"] = pax01_sparse(b"x", 2 << 30, [(0, 16)], d) + END
    # Negative and overflowing sizes.
    c["pax10-realsize-neg"] = pax10_sparse(b"x", 0, [(0, 16)], d, realsize_text=b"-5") + END
    c["pax00-size-neg"] = pax00_sparse(b"x", -5, [(0, 16)], d) + END
    c["pax-size-neg"] = pax_member([(b"size", b"-5")], b"x", b"0", 0, b"") + END
    c["pax-size-huge"] = pax_member([(b"size", b"%d" % (1 << 64))], b"x", b"0", 0, b"") + END
    c["ustar-size-neg"] = header(b"x", b"0", -5) + END
    c["ustar-size-1eib"] = header(b"x", b"0", EIB) + pad(d) + END
    c["pax10-realsize-huge"] = pax10_sparse(b"x", 0, [(0, 16)], d,
                                            realsize_text=b"99999999999999999999") + END
    c["pax01-map-neg"] = pax01_sparse(b"x", 64, [(-1, 16)], d) + END
    # Maps past the real size, overlapping, out of order.
    c["pax01-past-size"] = pax01_sparse(b"x", 8, [(0, 16)], d) + END
    c["pax01-overlap"] = pax01_sparse(b"x", 64, [(0, 16), (8, 16)], d + d) + END
    c["pax01-backwards"] = pax01_sparse(b"x", 64, [(32, 16), (0, 16)], d + d) + END
    # Small holes are read as the zeros they are.
    c["pax10-small-holes.ok"] = pax10_sparse(b"x", 4096, [(1024, 16)], d) + END
    c["gnu-old-small-holes.ok"] = gnu_old_sparse(b"x", 4096, [(0, 16), (2048, 16)], d + d) + END
    return c


def ok_contents():
    """What the cases that must be read hold, holes filled with zeros."""
    d = b"data" * 4
    a = bytearray(4096)
    a[1024:1040] = d
    b = bytearray(4096)
    b[0:16] = d
    b[2048:2064] = d
    return {"pax10-small-holes.ok": bytes(a), "gnu-old-small-holes.ok": bytes(b)}


# What each refused case must say (the cause, after the member's name).
CAUSES = {"ustar-size-1eib": "truncated", "realsize-huge": "size out of range",
          "map-neg": "a damaged header", "1eib": "of holes per member", "2gib": "sparse member declares 2 GiB",
          "neg": "negative", "huge": "overflow", "past-size": "more data than its size",
          "overlap": "out of order", "backwards": "out of order"}


def cause(name):
    for k, v in CAUSES.items():
        if k in name:
            return v
    raise KeyError(name)


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    os.makedirs(argv[1], exist_ok=True)
    for name, data in cases().items():
        with open(os.path.join(argv[1], name + ".tar"), "wb") as f:
            f.write(data)
        with open(os.path.join(argv[1], name + ".tar.gz"), "wb") as f:
            f.write(gzip.compress(data, mtime=0))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
