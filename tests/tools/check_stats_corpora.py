#!/usr/bin/env python3
"""check_stats_corpora.py CTXPACK CORPORA_DIR [TREE...]: on real trees (the
benchmark corpora), for both builders: `stats --json` sent bytes equal the
sum of the member sizes of `pack`'s tar, tar_bytes its length, and the
books balance (scanned + generated = sent + linked + excluded; the rules'
excluded bytes + unattributed = excluded).  Prints one line per tree and
builder; exit 1 on any mismatch."""
import json
import subprocess
import sys
import tarfile

ctxpack, corpora = sys.argv[1], sys.argv[2]
trees = sys.argv[3:] or ["node-app", "monorepo", "many-small", "few-large"]
bad = 0
for tree in trees:
    d = corpora + "/" + tree
    for builder in ("buildkit", "classic"):
        doc = json.loads(subprocess.run([ctxpack, "stats", "--json", "--builder=" + builder, d],
                                        stdout=subprocess.PIPE, check=True).stdout)
        p = subprocess.Popen([ctxpack, "pack", "--builder=" + builder, d], stdout=subprocess.PIPE)

        class Count:
            n = 0

            def read(self, k):
                b = p.stdout.read(k)
                self.n += len(b)
                return b
        c = Count()
        members = size = 0
        with tarfile.open(fileobj=c, mode="r|") as t:
            for m in t:
                members += 1
                size += m.size
        c.n += len(p.stdout.read())
        p.wait()
        sc, se, ex = doc["scanned"], doc["sent"], doc["excluded"]
        ok = (se["bytes"] == size and se["entries"] == members and se["tar_bytes"] == c.n and
              sc["bytes"] + se["generated_bytes"] == se["bytes"] + se["linked_bytes"] + ex["bytes"]
              and sum(r["excluded_bytes"] for r in doc["rules"]) + ex["unattributed_bytes"] ==
              ex["bytes"])
        bad += not ok
        print("%-4s %-10s %-8s scanned %d B, sent %d B (tar members: %d B in %d), tar %d B "
              "(pack wrote %d B), excluded %d B = rules %d B + unattributed %d B, reduction %.2f%%"
              % ("ok" if ok else "FAIL", tree, builder, sc["bytes"], se["bytes"], size, members,
                 se["tar_bytes"], c.n, ex["bytes"], sum(r["excluded_bytes"] for r in doc["rules"]),
                 ex["unattributed_bytes"], doc["reduction"]["bytes_pct"]))
sys.exit(1 if bad else 0)
