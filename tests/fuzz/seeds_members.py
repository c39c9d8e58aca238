#!/usr/bin/env python3
"""seeds_members.py: writes the seeds of fuzz_members into DIR.

    seeds_members.py DIR

Tars: the hostile cases of tests/tools/hostile_tars.py (sparse members in
GNU's old format and PAX 0.0, 0.1 and 1.0 that declare an exabyte, negative
and overflowing sizes, broken sparse maps), plain, gzip'ed and zstd'ed;
GNU tar's own sparse tars of a small sparse file (--format=gnu, and posix
with --sparse-version 0.0, 0.1 and 1.0) when GNU tar is there; tars from
Python's tarfile (ustar, GNU long names, PAX records for path, linkpath,
size and mtime, every member type); the same prefixed with 0x01 (the target
gzip's them itself).  Manifests: TSV and JSON of a few members, names with
escapes.  Only the standard library (and the tar and zstd programs, when
present) are used."""
import gzip
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import hostile_tars  # noqa: E402


def zstd(data):
    if not shutil.which("zstd"):
        return None
    return subprocess.run(["zstd", "-q", "-c", "-3"], input=data, stdout=subprocess.PIPE,
                          check=True).stdout


def gnu_tar_sparse():
    """{name: bytes}: GNU tar's sparse dialects of one small sparse file."""
    out = {}
    if not shutil.which("tar"):
        return out
    d = tempfile.mkdtemp(prefix="seeds-members-")
    try:
        p = os.path.join(d, "sp")
        with open(p, "wb") as f:
            # whole pages of data (holes are found a page at a time),
            # none of it zero (trim() keeps it)
            f.write(b"a" * 4096)
            f.seek(8192)
            f.write(b"b" * 4096)
            f.truncate(16384)
        for name, args in (("gnu", ["--format=gnu"]),
                           ("pax00", ["--format=posix", "--sparse-version=0.0"]),
                           ("pax01", ["--format=posix", "--sparse-version=0.1"]),
                           ("pax10", ["--format=posix", "--sparse-version=1.0"])):
            r = subprocess.run(["tar", "-C", d, "--sparse", "--mtime=@1700000000", "--owner=0",
                                "--group=0", "--numeric-owner"] + args + ["-cf", "-", "sp"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            if r.returncode == 0:
                out["gnutar-sparse-" + name] = trim(r.stdout)
    finally:
        shutil.rmtree(d)
    return out


def tarfile_tar(fmt, long_names=False):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=fmt) as tf:
        def add(name, typ, data=b"", **kw):
            ti = tarfile.TarInfo(name)
            ti.type = typ
            ti.size = len(data)
            ti.mtime = 1700000000
            ti.mode = kw.pop("mode", 0o644)
            for k, v in kw.items():
                setattr(ti, k, v)
            tf.addfile(ti, io.BytesIO(data) if data else None)
        long = "d/" + "n" * 120 if long_names else "d/f"
        add("./", tarfile.DIRTYPE, mode=0o755)
        add("d", tarfile.DIRTYPE, mode=0o755)
        add(long, tarfile.REGTYPE, b"hello\n", mode=0o4755)
        add("d/l", tarfile.SYMTYPE, linkname="../" + ("t" * 110 if long_names else "x"))
        add("d/h", tarfile.LNKTYPE, linkname=long)
        add("dev/null", tarfile.CHRTYPE, devmajor=1, devminor=3)
        add("dev/sda", tarfile.BLKTYPE, devmajor=8, devminor=0)
        add("fifo", tarfile.FIFOTYPE)
        add("tab\there\xe9", tarfile.REGTYPE, b"x" * 600)
    return trim(b.getvalue())


def manifests():
    tsv = ("# ctxpack manifest v2\ttype\tmode\tsize\txxh3-128\tmtime\tpath\tlink\n"
           "5\t0755\t0\t-\t1700000000\tapp\t\n"
           "0\t0644\t13\t19f95cef91bf1dc8760452f5bb4a172b\t1700000000\tapp/main.go\t\n"
           "2\t0777\t0\t-\t1700000000\tapp/current\tmain.go\n"
           "1\t0644\t0\t-\t-5\tapp/copy.go\tapp/main.go\n"
           "0\t4755\t0\t99aa06d3014798d86001c324468d497f\t1700000000\todd\\tname\\xff.txt\t\n"
           "3\t0666\t0\t-\t1700000000\tdev/null\t1,3\n"
           "# end of ctxpack manifest v2\t6\n").encode()
    js = ('{"manifest":1,"members":[\n'
          '{"path":"app","type":"dir","mode":"0755","size":0,"xxh3_128":null,"mtime":1700000000},\n'
          '{"path":"app/main.go","type":"file","mode":"0644","size":13,'
          '"xxh3_128":"19f95cef91bf1dc8760452f5bb4a172b","mtime":1700000000},\n'
          '{"path":"app/current","type":"symlink","mode":"0777","size":0,"xxh3_128":null,'
          '"mtime":1700000000,"link":"main.go"},\n'
          '{"path":"odd\\u0009name\\udcff.txt\\ud83d\\ude00","type":"file","mode":"4755","size":0,'
          '"xxh3_128":"99aa06d3014798d86001c324468d497f","mtime":-1},\n'
          '{"path":"dev/null","type":"char","mode":"0666","size":0,"xxh3_128":null,'
          '"mtime":1700000000,"devmajor":1,"devminor":3}\n'
          ']}\n').encode()
    empty = (b"# ctxpack manifest v2\ttype\tmode\tsize\txxh3-128\tmtime\tpath\tlink\n"
             b"# end of ctxpack manifest v2\t0\n")
    return {"manifest.tsv": tsv, "manifest.json": js, "manifest-empty.tsv": empty,
            "manifest-empty.json": b'{"manifest":1,"members":[\n]}\n'}


def trim(data):
    """Without the zero padding tar writers add up to a 10 KiB record: the
    last block that is not zero, then the two end blocks."""
    end = len(data.rstrip(b"\0"))
    return data[:end + (-end % 512)] + bytes(1024)


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    seeds = {}
    tars = {k.replace(".ok", "-ok"): v for k, v in hostile_tars.cases().items()}
    tars.update(gnu_tar_sparse())
    tars["tarfile-ustar"] = tarfile_tar(tarfile.USTAR_FORMAT)
    tars["tarfile-gnu-long"] = tarfile_tar(tarfile.GNU_FORMAT, True)
    tars["tarfile-pax-long"] = tarfile_tar(tarfile.PAX_FORMAT, True)
    for name, data in tars.items():
        seeds["seed-%s.tar" % name] = data
        seeds["seed-%s.tar.gz" % name] = gzip.compress(data, mtime=0)
        z = zstd(data)
        if z is not None and ("1eib" in name or "sparse" in name or "tarfile" in name):
            seeds["seed-%s.tar.zst" % name] = z
        if "sparse" in name or "tarfile" in name or "1eib" in name:
            seeds["seed-gz01-%s.tar" % name] = b"\x01" + data
    for name, data in manifests().items():
        seeds["seed-" + name] = data
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print("%d seeds in %s" % (len(seeds), out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
