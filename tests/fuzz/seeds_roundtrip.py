#!/usr/bin/env python3
"""Writes hand-made seed inputs for fuzz_roundtrip (the input format is
described above decode() in fuzz_roundtrip.c) into a directory:

    python3 tests/fuzz/seeds_roundtrip.py /tmp/seeds-roundtrip

The checked-in corpus (corpus/roundtrip) grew from these by fuzzing and was
then minimized with libFuzzer's -merge=1 (README.md)."""
import os
import sys

SYM = ["a", "b", "/", ".", "*", "!", "\\", "\n", " ", "#", "?", "[", "]", "-",
       b"\x80", b"\xff", "\u00e9", "~", "..", "Dockerfile", ".dockerignore", "\r",
       "\t", "x" * 54, "\u2028", "^", "{", ",", ":", "c", "df", b"\xed\xa0\x80"]
IDX = {s if isinstance(s, bytes) else s.encode(): i for i, s in enumerate(SYM)}

# type byte bits 0-2
FILE, DIR, SYMLINK, HARDLINK, FIFO, BIG = 0, 2, 3, 4, 5, 6


def name(*syms):
    """A name as symbols: each argument is one symbol's text."""
    out = bytes([len(syms) - 1])
    for s in syms:
        out += bytes([IDX[s.encode() if isinstance(s, str) else s]])
    return out


def ent(kind, nm, mode=0, mtime=0, content=b"", target=None, to=0):
    b = bytes([kind | mode << 3 | mtime << 5]) + nm
    if kind in (FILE, BIG):
        b += bytes([len(content)]) + content
    elif kind == SYMLINK:
        b += target
    elif kind == HARDLINK:
        b += bytes([to])
    return b


def seed(flags, entries, ignore=b""):
    return bytes([flags, len(entries)]) + b"".join(entries) + ignore


SEEDS = {
    "basic": seed(0, [
        ent(FILE, name("a"), content=b"hello\n"),
        ent(DIR, name("b")),
        ent(FILE, name("b", "/", "c"), mode=1, content=b"x"),
        ent(SYMLINK, name("c"), target=name("a")),
        ent(HARDLINK, name("a", "a"), to=2),
    ], b"b\n!b/c\n"),
    "outside-df": seed(1, [
        ent(FILE, name("a", ".", "b"), content=b"1"),
        ent(FILE, name("c"), content=b"2"),
    ], b"*.b\n"),
    "outside-df-no-ignore": seed(1 | 8, [ent(FILE, name("a"), content=b"a")]),
    "outside-df-ignore-dir": seed(1 | 8, [
        ent(DIR, name(".dockerignore")),
        ent(FILE, name(".dockerignore", "/", "a"), content=b"a"),
    ]),
    "outside-df-ignore-symlink": seed(1 | 8, [
        ent(FILE, name("a"), content=b"b\n"),
        ent(SYMLINK, name(".dockerignore"), target=name("a")),
    ]),
    "outside-df-ignore-excluded": seed(1, [ent(FILE, name("b"), content=b"b")],
                                       b".dockerignore\n"),
    "df-flag-with-own-ignore": seed(2 | 4, [
        ent(FILE, name("df", "/", "a"), content=b"x"),
        ent(FILE, name("c"), content=b"y"),
    ], b"df\nc\n"),
    "lowercase-dockerfile": seed(3, [ent(FILE, name("a"), content=b"1")], b"dockerfile\n"),
    "root-df-ignore": seed(4, [ent(FILE, name("a"), content=b"1")], b"a\n"),
    "gzip": seed(0x20, [ent(FILE, name("a"), content=b"gz" * 20)]),
    "zstd": seed(0x30, [ent(DIR, name("c")), ent(FILE, name("c", "/", "a"), content=b"z")]),
    "long-names": seed(0, [
        ent(FILE, name("x" * 54, "x" * 54, "/", "x" * 54, "x" * 54, "x" * 54), content=b"L"),
        ent(SYMLINK, name("b"), target=name("x" * 54, "/", "x" * 54, "x" * 54)),
        ent(HARDLINK, name("x" * 54, "x" * 54, "x" * 54, "a"), to=2),
    ]),
    "non-utf8": seed(0, [
        ent(FILE, name(b"\x80"), content=b"\x80"),
        ent(FILE, name(b"\xff", "\u00e9"), content=b"\xff"),
        ent(DIR, name("\u2028")),
        ent(FILE, name("\u2028", "/", b"\xed\xa0\x80"), content=b"s"),
        ent(SYMLINK, name("c"), target=name(b"\xff")),
    ], b"\x80\n!\xff*\n"),
    "specials": seed(0, [
        ent(FILE, name("a", "\n", "b"), content=b"nl"),
        ent(FILE, name("\\", "*"), content=b"bs"),
        ent(FILE, name("!", "a"), content=b"bang"),
        ent(FILE, name("#", "a"), content=b"hash"),
        ent(FILE, name(" ", "a", " "), content=b"sp"),
        ent(FILE, name("a", "\r"), content=b"cr"),
        ent(FILE, name("[", "a", "]"), content=b"br"),
    ], b"\\!a\n\\#a\n#a\n[[]a]\n a \n"),
    "big-file": seed(0, [ent(BIG, name("b"), content=b"0123456789")]),
    "big-file-link": seed(0, [
        ent(BIG, name("b"), content=b""),
        ent(HARDLINK, name("c"), to=2),
    ]),
    "fifo": seed(0, [ent(FIFO, name("a")), ent(DIR, name("b"))]),
    "symlink-hardlink": seed(0, [
        ent(SYMLINK, name("a"), target=name("/", "b")),
        ent(HARDLINK, name("b"), to=2),
        ent(HARDLINK, name("c"), to=2),
    ]),
    "modes-mtimes": seed(0, [
        ent(FILE, name("a"), mode=3, mtime=1, content=b"a"),
        ent(FILE, name("b"), mode=2, mtime=2, content=b"b"),
        ent(DIR, name("c"), mode=2, mtime=3),
        ent(FILE, name("c", "/", "a"), mode=1, mtime=4, content=b"d"),
        ent(DIR, name("-"), mode=3, mtime=5),
        ent(SYMLINK, name("~"), mtime=6, target=name("a")),
        ent(FIFO, name("^"), mtime=7),
    ]),
    "doublestar": seed(0, [
        ent(FILE, name("a", "/", "b", "/", "c"), content=b"c"),
        ent(FILE, name("a", "/", "c"), content=b"c"),
        ent(FILE, name("b", "/", "c"), content=b"c"),
    ], b"**/c\n!a/**\na/b\n"),
    "exclude-all-keep-one": seed(0, [
        ent(FILE, name("a", "/", "b", "/", "c"), content=b"c"),
        ent(FILE, name("a", "/", "a"), content=b"d"),
    ], b"*\n!a/b/c\n"),
    "bad-pattern": seed(0, [ent(FILE, name("a"), content=b"a")], b"[\n"),
    "bad-pattern-lazy": seed(0, [ent(FILE, name("a", "/", "b"), content=b"a")], b"a/[\n"),
    "regexp-construct": seed(0, [ent(FILE, name("a"), content=b"a")], b"\\p{Greek}\n"),
    "bom-crlf": seed(0, [ent(FILE, name("a"), content=b"a"), ent(FILE, name("b"), content=b"b")],
                     b"\xef\xbb\xbfa\r\n  b  \r\n"),
    "excluded-dockerfile": seed(0, [ent(FILE, name("a"), content=b"a")],
                                b"Dockerfile\n.dockerignore\n"),
    "fifo-dockerignore": seed(8, [ent(FIFO, name(".dockerignore")), ent(FILE, name("a"), content=b"a")]),
    "fifo-behind-dockerignore": seed(8, [
        ent(FIFO, name("a")),
        ent(SYMLINK, name(".dockerignore"), target=name("a")),
        ent(FIFO, name("Dockerfile", ".dockerignore")),
    ]),
    "dotdot-symlink": seed(0, [
        ent(DIR, name("c")),
        ent(SYMLINK, name("c", "/", "a"), target=name("..", "/", "..", "/", "a")),
    ]),
}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for k, v in SEEDS.items():
        with open(os.path.join(out, k), "wb") as f:
            f.write(v)


if __name__ == "__main__":
    main()
