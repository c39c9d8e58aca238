#!/usr/bin/env python3
"""test_transfer.py CTXPACK: `ctxpack stats --json`'s transfer.bytes (what
BuildKit transfers of the context for the Dockerfile, src/transfer.c)
against the "transferring context: N" every recorded BuildKit build of
tests/vectors/used.jsonl printed (dockerd 26.1, buildx 0.13.1, recorded by
tests/engine/record_used.py as root: owner 0, whose uid and gid take no
byte in fsutil's stat packets).  The engine prints the size as Go's
units.HumanSize does (4 significant digits, 1000s), so the count is
compared in that form, or in bytes where the recording has them
("transferred_bytes", from --progress=rawjson).  Needs root (the recorded owner); skips visibly
otherwise."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'engine'))
import record_used  # noqa: E402

CTXPACK = sys.argv[1]
VECTORS = os.path.join(HERE, '..', 'vectors', 'used.jsonl')


def human_size(n):
    """go-units HumanSize: "%.4g%s" over 1000s, B kB MB GB ..."""
    units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB']
    size, i = float(n), 0
    while size >= 1000 and i < len(units) - 1:
        size /= 1000
        i += 1
    s = '%.4g' % size
    return s + units[i]


def stats(d, case):
    args = [CTXPACK, 'stats', '--json', '-q', '--builder=buildkit'] + record_used.build_args(case)
    p = subprocess.run(args + [d], capture_output=True, timeout=60,
                       input=case['dockerfile'].encode() if case.get('stdin') else None)
    try:
        return p.returncode, json.loads(p.stdout), p.stderr.decode(errors='replace')
    except ValueError:
        return p.returncode, None, (p.stdout + p.stderr).decode(errors='replace')


def main():
    cases = [json.loads(line) for line in open(VECTORS) if line.strip()]
    if os.geteuid() != 0:
        for c in cases:
            tap.skip('%s: transfer' % c['name'], 'the recordings are of files owned by root')
        tap.finish()
        return
    for case in cases:
        want = case['buildkit'].get('transferred')
        exact = case['buildkit'].get('transferred_bytes')
        with tempfile.TemporaryDirectory(prefix='ctxpack-transfer-') as tmp:
            d = os.path.join(tmp, 'ctx')
            os.mkdir(d)
            record_used.write_tree(d, case)
            rc, doc, err = stats(d, case)
            t = doc and doc.get('transfer')
            got = human_size(t['bytes']) if t and not t['nothing'] else None
            if exact is not None:  # recorded in bytes (--progress=rawjson)
                want, got = exact, t['bytes'] if t else None
            tap.check('%s: BuildKit transfers %s' % (case['name'], want), rc == 0 and got == want,
                      'stats exit %d, transfer %s (%s); recorded %s\n%s' %
                      (rc, got, json.dumps(t), want, err or json.dumps(doc and doc.get('used'))))
    tap.finish()


if __name__ == '__main__':
    main()
