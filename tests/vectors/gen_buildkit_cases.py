#!/usr/bin/env python3
"""Generate tests/vectors/buildkit.jsonl: BuildKit-mode context vectors.

usage: gen_buildkit_cases.py [--bkref PATH] [--check] [--out FILE]

Each case is a small tree, its ignore file(s) and optional arguments; the
expectation is what BuildKit's file sender (buildx + dockerfile frontend +
tonistiigi/fsutil's filter walk with moby/patternmatcher v0.6.1) sends: every
path in walk order, directories with a trailing '/', with its tar typeflag
("0" file, "2" symlink, "5" directory).

  --bkref PATH  run a local reference implementation of that sender on every
                materialized tree to (re)compute the expectations. It is a
                measurement tool kept outside the repository; the committed
                .jsonl never depends on it.
  (no --bkref)  re-emit the expectations already in the .jsonl for the specs
                below (fails if a spec has none: run with --bkref).
  --engine      run the cases marked engine=True through the real program
                (`docker build --progress=plain ARGS .` on the context, with
                DOCKER_HOST/DOCKER_CONFIG from scripts/engine.sh env:
                buildx + BuildKit) and record the error it fails with; the
                other cases keep their committed expectations.
  --check       write nothing; exit 1 if the output would differ from FILE.

Line format (JSON, ensure_ascii; bytes that are not UTF-8 are decoded with
Python's surrogateescape, so byte 0xff is "\\udcff"):
  name, item (section of DOCKER-SEMANTICS.md: B1..B9 = the bullets of
  section B in order, A<n> = item n of section A: same pattern engine),
  note (what section B/A predicts; reviewed by hand against the expectation),
  tree: [["f", path, content(, "0644")], ["d", path(, mode)], ["l", path, target]]
        in creation order, every parent directory listed before its children,
  dockerignore: content of <ctx>/.dockerignore, or null when there is none
        (a .dockerignore that is a directory or a symlink is in "tree"),
  ignorefiles (optional): {path relative to the context: content}, e.g.
        "Dockerfile.dockerignore", written after the tree,
  args (optional): e.g. ["-f", "sub/app.Dockerfile"]; the -f path is relative
        to the context directory (run with the context as current directory),
  expect: {"members": [[path, typeflag], ...]} or {"error": message}
        (the message is the reference's; an implementation need only fail),
  recorded (optional): "engine" when the expectation was measured on the
        real engine (--engine) instead of the reference sender.
  dockerfile_not_sent (optional; a list when the Dockerfile is a symlink:
        the name and its target): the Dockerfile's path when the patterns
        keep it out. BuildKit ships it separately; ctxpack's buildkit mode
        still puts it in its tar (DOCKER-SEMANTICS.md section B), so a
        harness comparing ctxpack's tar must allow exactly that one extra
        member.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "buildkit.jsonl")
DF = "FROM scratch\nCOPY . /ctx\n"

CASES = []


def F(path, content="", mode=None):
    return ["f", path, content] + ([mode] if mode else [])


def D(path, mode=None):
    return ["d", path] + ([mode] if mode else [])


def L(path, target):
    return ["l", path, target]


def files(*paths):
    """Plain files (content = own name); a trailing '/' makes a directory."""
    return [D(p[:-1]) if p.endswith("/") else F(p, p.rsplit("/", 1)[-1] + "\n") for p in paths]


def case(name, item, note, tree, dockerignore=None, ignorefiles=None, args=None, dockerfile=True,
         engine=False):
    """dockerfile=True prepends a plain Dockerfile at the context root;
    engine=True: the expectation is measured on the real engine (--engine)."""
    if dockerfile:
        tree = [F("Dockerfile", DF)] + tree
    assert not any(c["name"] == name for c in CASES), name
    CASES.append(dict(name=name, item=item, note=note, tree=normalize(tree),
                      dockerignore=dockerignore, ignorefiles=ignorefiles, args=args,
                      engine=engine))


def normalize(tree):
    """List every implied parent directory before its first child."""
    out, have = [], set()
    for e in tree:
        parts = e[1].split("/")
        for i in range(1, len(parts)):
            d = "/".join(parts[:i])
            if d not in have:
                have.add(d)
                out.append(D(d))
        if e[0] == "d":
            if e[1] in have:
                continue
            have.add(e[1])
        out.append(e)
    return out


# ---------------------------------------------------------------------------
# B1: <Dockerfile>.dockerignore replaces .dockerignore; what can be read
# ---------------------------------------------------------------------------
case("b-dfignore-replaces", "B1",
     "Dockerfile.dockerignore next to the Dockerfile replaces .dockerignore: b is excluded, a is sent",
     files("a", "b"), dockerignore="a\n", ignorefiles={"Dockerfile.dockerignore": "b\n"})
case("b-dfignore-empty-replaces", "B1",
     "an empty Dockerfile.dockerignore still replaces .dockerignore: nothing is excluded "
     "(the built-in frontend; an external '# syntax=' frontend gets the empty file back as nil "
     "over gRPC and falls back to .dockerignore)",
     files("a", "b"), dockerignore="a\nb\n", ignorefiles={"Dockerfile.dockerignore": ""})
case("b-dfignore-comments-only", "B1",
     "a Dockerfile.dockerignore with only comments replaces .dockerignore and yields no patterns",
     files("a", "b"), dockerignore="*\n", ignorefiles={"Dockerfile.dockerignore": "# nothing\n\n"})
case("b-dfignore-without-dockerignore", "B1",
     "Dockerfile.dockerignore alone is used: *.log excluded",
     files("app.py", "debug.log", "logs/x.log", "logs/keep.txt"), dockerignore=None,
     ignorefiles={"Dockerfile.dockerignore": "*.log\nlogs\n!logs/keep.txt\n"})
case("b-dfignore-subdir-f", "B1",
     "-f sub/app.Dockerfile: sub/app.Dockerfile.dockerignore replaces .dockerignore; "
     "its patterns are relative to the context root, not to sub/",
     files("a", "b", "sub/b", "sub/c") + [F("sub/app.Dockerfile", DF)], dockerignore="a\n",
     ignorefiles={"sub/app.Dockerfile.dockerignore": "b\nsub/c\n"}, args=["-f", "sub/app.Dockerfile"])
case("b-dfignore-subdir-f-root-file-ignored", "B1",
     "-f sub/app.Dockerfile: an app.Dockerfile.dockerignore at the context root is not looked at; "
     ".dockerignore applies (a excluded, b sent)",
     files("a", "b") + [F("sub/app.Dockerfile", DF)], dockerignore="a\n",
     ignorefiles={"app.Dockerfile.dockerignore": "b\n"}, args=["-f", "sub/app.Dockerfile"])
case("b-dfignore-subdir-f-named-dockerfile", "B1",
     "-f sub/Dockerfile: the file looked for is sub/Dockerfile.dockerignore, a root "
     "Dockerfile.dockerignore is just a file; .dockerignore applies",
     files("a", "b") + [F("sub/Dockerfile", DF)], dockerignore="a\n",
     ignorefiles={"Dockerfile.dockerignore": "b\n"}, args=["-f", "sub/Dockerfile"])
case("b-dfignore-subdir-f-named-dockerfile-used", "B1",
     "-f sub/Dockerfile with sub/Dockerfile.dockerignore: it replaces .dockerignore (b excluded, a sent)",
     files("a", "b") + [F("sub/Dockerfile", DF)], dockerignore="a\n",
     ignorefiles={"sub/Dockerfile.dockerignore": "b\n"}, args=["-f", "sub/Dockerfile"])
case("b-dfignore-custom-name-root", "B1",
     "-f app.Dockerfile: app.Dockerfile.dockerignore replaces .dockerignore; Dockerfile.dockerignore is ignored",
     files("a", "b", "c") + [F("app.Dockerfile", DF)], dockerignore="a\n",
     ignorefiles={"app.Dockerfile.dockerignore": "b\n", "Dockerfile.dockerignore": "c\n"},
     args=["-f", "app.Dockerfile"])
case("b-dfignore-dot-slash-f", "B1",
     "-f ./Dockerfile is the default Dockerfile: Dockerfile.dockerignore replaces .dockerignore",
     files("a", "b"), dockerignore="a\n", ignorefiles={"Dockerfile.dockerignore": "b\n"},
     args=["-f", "./Dockerfile"])
case("b-dfignore-lowercase-dockerfile", "B1",
     "only a lowercase 'dockerfile' exists: the name stays Dockerfile, so Dockerfile.dockerignore "
     "is still the replacement (dockerfile.dockerignore is not)",
     [F("dockerfile", DF)] + files("a", "b", "c"), dockerignore="a\n",
     ignorefiles={"Dockerfile.dockerignore": "b\n", "dockerfile.dockerignore": "c\n"}, dockerfile=False)
case("b-dfignore-is-directory", "B1",
     "Dockerfile.dockerignore is a directory: it cannot be read, .dockerignore applies (a excluded); "
     "the directory is sent",
     files("a", "b", "Dockerfile.dockerignore/rules"), dockerignore="a\n")
case("b-dfignore-dangling-symlink", "B1",
     "Dockerfile.dockerignore is a dangling symlink: cannot be read, .dockerignore applies; the link is sent",
     files("a", "b") + [L("Dockerfile.dockerignore", "missing")], dockerignore="a\n")
case("b-dfignore-symlink-in-context", "B1",
     "Dockerfile.dockerignore -> ci/rules (in the context) is read through the link: b excluded",
     files("a", "b") + [F("ci/rules", "b\n"), L("Dockerfile.dockerignore", "ci/rules")], dockerignore="a\n")
case("b-dfignore-excludes-ignorefiles", "B1",
     "the replacement can exclude both ignore files: '*.dockerignore' ([^/]* may be empty) "
     "matches .dockerignore and Dockerfile.dockerignore; both stay out, a is sent",
     files("a"), dockerignore="a\n", ignorefiles={"Dockerfile.dockerignore": "*.dockerignore\n"})
case("b-dfignore-subdir-symlink-scoped", "B1",
     "-f sub/app.Dockerfile, sub/app.Dockerfile.dockerignore -> ../.dockerignore: symlinks resolve "
     "inside the Dockerfile's directory (its own transfer root), so '..' stops at sub/ and "
     "sub/.dockerignore is read (c excluded), not the context's .dockerignore (a)",
     files("a", "b", "c") + [F("sub/app.Dockerfile", DF), F("sub/.dockerignore", "c\n"),
                            L("sub/app.Dockerfile.dockerignore", "../.dockerignore")],
     dockerignore="a\n", args=["-f", "sub/app.Dockerfile"])
case("b-dfignore-dockerfile-symlink", "B1",
     "Dockerfile -> docker/Dockerfile.real: the ignore file is named after the link (Dockerfile.dockerignore, "
     "used: b excluded), not after the target (docker/Dockerfile.real.dockerignore is just a file)",
     [L("Dockerfile", "docker/Dockerfile.real"), F("docker/Dockerfile.real", DF),
      F("docker/Dockerfile.real.dockerignore", "a\n")] + files("a", "b"),
     dockerignore=None, ignorefiles={"Dockerfile.dockerignore": "b\n"}, dockerfile=False)
case("b-dfignore-with-dockerignore-directory", "B1",
     ".dockerignore is a directory but Dockerfile.dockerignore is readable: it is used (b excluded); "
     "the .dockerignore directory is sent",
     files(".dockerignore/x", "a", "b"), dockerignore=None, ignorefiles={"Dockerfile.dockerignore": "b\n"})
case("b-dockerignore-directory", "B1",
     ".dockerignore is a directory: no patterns; everything is sent, the directory too",
     files("a", ".dockerignore/x", "sub/y"), dockerignore=None)
case("b-dockerignore-dangling-symlink", "B1",
     ".dockerignore is a dangling symlink: no patterns; the symlink is sent",
     files("a", "b") + [L(".dockerignore", "nowhere")], dockerignore=None)
case("b-dockerignore-symlink-in-context", "B1",
     ".dockerignore -> conf/ignore: read through the link (b excluded); both are sent as they are",
     files("a", "b") + [F("conf/ignore", "b\n"), L(".dockerignore", "conf/ignore")], dockerignore=None)
case("b-dockerignore-symlink-outside-relative", "B1",
     ".dockerignore -> ../../rules: resolved inside the context root ('..' stops at the root), "
     "so <ctx>/rules is read: secret excluded (a reader following the link out of the context "
     "would find no file and exclude nothing)",
     files("a", "secret") + [F("rules", "secret\n"), L(".dockerignore", "../../rules")], dockerignore=None)
case("b-dockerignore-symlink-absolute", "B1",
     ".dockerignore -> /rules: an absolute target is taken relative to the context root, "
     "so <ctx>/rules is read: secret excluded",
     files("a", "secret") + [F("rules", "secret\n"), L(".dockerignore", "/rules")], dockerignore=None)
case("b-dockerignore-symlink-outside-missing", "B1",
     ".dockerignore -> /ctxpack-no-such-dir/rules: outside and missing inside the root: no patterns",
     files("a", "b") + [L(".dockerignore", "/ctxpack-no-such-dir/rules")], dockerignore=None)
case("b-dockerignore-symlink-to-dir", "B1",
     ".dockerignore -> conf (a directory): cannot be read as a file: no patterns",
     files("a", "conf/b") + [L(".dockerignore", "conf")], dockerignore=None)

# ---------------------------------------------------------------------------
# B2: Dockerfile and .dockerignore are not forced in
# ---------------------------------------------------------------------------
case("b-dockerignore-excludes-itself", "B2",
     ".dockerignore listing itself is not sent (classic re-adds it)",
     files("a"), dockerignore=".dockerignore\n")
case("b-dockerfile-excluded", "B2",
     "an excluded Dockerfile is not sent (classic re-adds it); ctxpack adds it itself",
     files("a"), dockerignore="Dockerfile\n")
case("b-dockerfile-glob-excluded", "B2",
     "Dockerfile* and .dockerignore exclude both build files, as the corpora's node-app does",
     files("Dockerfile.prod", "app.js"), dockerignore="Dockerfile*\n.dockerignore\n")
case("b-star-excludes-all", "B2",
     "'*' sends nothing at all, not even the Dockerfile or .dockerignore",
     files("a", "d/b"), dockerignore="*\n")
case("b-star-then-dockerfile", "B2",
     "'*' + '!Dockerfile' sends only the Dockerfile",
     files("a", "d/b"), dockerignore="*\n!Dockerfile\n")
case("b-dotfiles-excluded", "B2",
     "'.*' excludes .dockerignore and other dotfiles; Dockerfile is sent",
     files(".env", ".git/HEAD", "a"), dockerignore=".*\n")
case("b-subdir-dockerfile-excluded-dir", "B2",
     "-f docker/Dockerfile with 'docker' excluded: nothing under docker/ is sent",
     files("a") + [F("docker/Dockerfile", DF), F("docker/entry.sh", "#!/bin/sh\n")],
     dockerignore="docker\n", args=["-f", "docker/Dockerfile"], dockerfile=False)
case("b-subdir-dockerfile-doublestar", "B2",
     "**/sub with -f x/y/sub/Dockerfile: the Dockerfile stays out (classic also leaves it out)",
     files("a", "x/y/other") + [F("x/y/sub/Dockerfile", DF)], dockerignore="**/sub\n",
     args=["-f", "x/y/sub/Dockerfile"], dockerfile=False)
case("b-dockerfile-custom-name-excluded", "B2",
     "-f app.Dockerfile with '*.Dockerfile': the Dockerfile is excluded like any file and not re-added",
     [F("app.Dockerfile", DF), F("other.Dockerfile", DF)] + files("a"), dockerignore="*.Dockerfile\n",
     args=["-f", "app.Dockerfile"], dockerfile=False)
case("b-dockerfile-reincluded", "B2",
     "'*' then '!Dockerfile' and '!.dockerignore': both sent because the patterns keep them",
     files("a"), dockerignore="*\n!Dockerfile\n!.dockerignore\n")

# ---------------------------------------------------------------------------
# B3: parent directories of re-included entries, lazily
# ---------------------------------------------------------------------------
case("b-parent-dirs-sent", "B3",
     "dir + !dir/keep sends dir/ then dir/keep (classic sends only dir/keep); the symlink ln is sent as is",
     [D("dir"), F("dir/keep", "k"), F("dir/other", "o"), L("ln", "dir"), F("x", "", "0644")],
     dockerignore="dir\n!dir/keep\n")
case("b-parent-dirs-deep", "B3",
     "a + !a/b/c/keep: a/, a/b/, a/b/c/ are sent just before a/b/c/keep; nothing else under a",
     files("a/x", "a/b/y", "a/b/c/keep", "a/b/c/z", "z"), dockerignore="a\n!a/b/c/keep\n")
case("b-parent-dirs-two-files", "B3",
     "two re-included files in one excluded dir: a/ once, then a/k1, a/k2 in walk order",
     files("a/0", "a/k1", "a/m", "a/k2"), dockerignore="a\n!a/k1\n!a/k2\n")
case("b-parent-dirs-siblings", "B3",
     "re-included files in sibling subdirs: a/, a/b/, a/b/k1, a/c/, a/c/k2",
     files("a/b/k1", "a/b/x", "a/c/k2", "a/c/y", "a/d/z"), dockerignore="a\n!a/b/k1\n!a/c/k2\n")
case("b-parent-dirs-order", "B3",
     "walk order is kept: a/ sent before a/b/ (lazily at a/b/keep); a/z after the a/b subtree",
     files("a/0file", "a/b/keep", "a/b/skip", "a/z", "b"), dockerignore="a\n!a/b/keep\n!a/z\n")
case("b-parent-dirs-reinclude-dir", "B3",
     "a + !a/b re-includes the directory a/b and everything in it; a/ is sent before a/b/",
     files("a/b/c/d", "a/b/e", "a/x"), dockerignore="a\n!a/b\n")
case("b-parent-dirs-star-root", "B3",
     "'*' + !a/b/keep: a/, a/b/, a/b/keep only (Dockerfile and .dockerignore excluded)",
     files("a/b/keep", "a/b/other", "a/c", "top"), dockerignore="*\n!a/b/keep\n")
case("b-parent-dirs-missing-target", "B3",
     "a + !a/missing: a is walked but nothing under it is re-included, so a/ is not sent",
     files("a/x", "a/y/z", "b"), dockerignore="a\n!a/missing\n")
case("b-parent-dirs-empty-excluded", "B3",
     "an excluded empty directory is not sent; an excluded dir with an exception that matches "
     "an empty subdir sends a/ and a/keep/",
     [D("empty"), D("a"), D("a/keep"), F("a/x", "x")], dockerignore="empty\na\n!a/keep\n")
case("b-parent-dirs-dir-contents-excluded", "B3",
     "a/* and a/** exclude the contents but not the directories themselves: a/ and b/ sent empty",
     files("a/x", "a/y/z", "b/x", "b/y/z"), dockerignore="a/*\nb/**\n")
case("b-parent-dirs-middle-reexcluded", "B3",
     "a, !a/b, a/b/c: a/, a/b/ and a/b's files are sent; a/b/c stays out",
     files("a/x", "a/b/f", "a/b/c/g", "a/b/c/h"), dockerignore="a\n!a/b\na/b/c\n")
case("b-parent-dirs-grandchild", "B3",
     "a, !a/b, a/b/c, !a/b/c/keep: a/, a/b/, a/b/c/ (lazily), a/b/c/keep, then a/b/f",
     files("a/b/c/keep", "a/b/c/no", "a/b/f"), dockerignore="a\n!a/b\na/b/c\n!a/b/c/keep\n")
case("b-parent-dirs-symlink-reincluded", "B3",
     "a + !a/link: a/ then the symlink a/link (not followed)",
     files("a/target/f") + [L("a/link", "target")], dockerignore="a\n!a/link\n")
case("b-parent-dirs-prefix-collision", "B3",
     "a* + !ab/keep: only ab/ is walked (literal exception), sending ab/ and ab/keep; "
     "a/ and abc/ stay out",
     files("a/keep", "ab/keep", "ab/x", "abc/keep", "b"), dockerignore="a*\n!ab/keep\n")
case("b-parent-dirs-vs-classic-two-levels", "B3",
     "build + !build/lib/keep.txt: build/, build/lib/, build/lib/keep.txt (classic: only the file)",
     files("build/lib/keep.txt", "build/lib/junk.o", "build/out.bin", "src/main.c"),
     dockerignore="build\n!build/lib/keep.txt\n")
case("b-parent-dirs-trailing-slash-pattern", "B3",
     "'dir/' is cleaned to 'dir'; '!dir/keep/' to 'dir/keep': dir/, dir/keep/ and its contents",
     files("dir/keep/f", "dir/x"), dockerignore="dir/\n!dir/keep/\n")

# ---------------------------------------------------------------------------
# B4: wildcard exceptions reach into excluded directories
# ---------------------------------------------------------------------------
case("b-wild-src-js", "B4",
     "* + !src/**/*.js: every .js under src (src/a.js, src/lib/b.js, deeper) with parents src/, "
     "src/lib/, src/lib/deep/ (classic keeps only src/a.js)",
     files("src/a.js", "src/a.ts", "src/lib/b.js", "src/lib/c.css", "src/lib/deep/d.js", "x.js"),
     dockerignore="*\n!src/**/*.js\n")
case("b-wild-doublestar-keep", "B4",
     "dir + !**/keep: dir/, dir/keep, dir/sub/, dir/sub/keep (classic: nothing inside dir)",
     files("dir/keep", "dir/x", "dir/sub/keep", "dir/sub/y", "keep"), dockerignore="dir\n!**/keep\n")
case("b-wild-star-keep", "B4",
     "dir + !*/keep: dir/ and dir/keep; */keep is one level so dir/sub/keep stays out",
     files("dir/keep", "dir/sub/keep", "dir/x"), dockerignore="dir\n!*/keep\n")
case("b-wild-di-star-keep", "B4",
     "dir + !di*/keep: dir/ and dir/keep (other/ is not excluded and is sent whole)",
     files("dir/keep", "dir/x", "other/keep"), dockerignore="dir\n!di*/keep\n")
case("b-wild-build-keep", "B4",
     "**/build + !**/build/keep: every build/keep with its parents (classic keeps nothing)",
     files("build/keep", "build/x", "a/build/keep", "a/build/y", "a/src"), dockerignore="**/build\n!**/build/keep\n")
case("b-wild-star-md", "B4",
     "* + !**/*.md: every .md file anywhere, with its parent dirs",
     files("README.md", "docs/guide.md", "docs/img.png", "src/x/notes.md", "src/x/a.c"),
     dockerignore="*\n!**/*.md\n")
case("b-wild-scope-package-json", "B4",
     "node_modules + !node_modules/@scope/*/package.json: each such package.json with its parents",
     files("node_modules/@scope/a/package.json", "node_modules/@scope/a/index.js",
           "node_modules/@scope/b/package.json", "node_modules/other/package.json"),
     dockerignore="node_modules\n!node_modules/@scope/*/package.json\n")
case("b-wild-question-mark", "B4",
     "logs + !logs/?.txt: logs/, logs/1.txt; logs/10.txt stays out",
     files("logs/1.txt", "logs/10.txt", "logs/a/1.txt"), dockerignore="logs\n!logs/?.txt\n")
case("b-wild-class", "B4",
     "out + !out/[ab].bin: out/, out/a.bin, out/b.bin",
     files("out/a.bin", "out/b.bin", "out/c.bin"), dockerignore="out\n!out/[ab].bin\n")
case("b-wild-doublestar-empty-dir", "B4",
     "* + !**/keep where a/keep is an empty directory: a/ and a/keep/ are sent",
     [D("a/keep"), F("a/x", "x"), F("b/y", "y")], dockerignore="*\n!**/keep\n")
case("b-wild-doublestar-dir-contents", "B4",
     "* + !**/cfg: a re-included directory deep inside brings its whole subtree (children inherit "
     "the parent's match): a/, a/cfg/, a/cfg/x, a/cfg/y/, a/cfg/y/z",
     files("a/cfg/x", "a/cfg/y/z", "a/other", "b"), dockerignore="*\n!**/cfg\n")
case("b-wild-exception-unrelated", "B4",
     "a wildcard exception elsewhere (!b/*.x) turns pruning off but changes nothing else: "
     "a stays out entirely; b/ and b/3.x are sent",
     files("a/1.x", "a/sub/2.x", "b/3.x", "b/4.y"), dockerignore="a\nb\n!b/*.x\n")
case("b-wild-trailing-star-is-prefix", "B4",
     "!dir/* has only a trailing glob: a literal-prefix exception; dir/ dir/a dir/b/ and "
     "dir/b's contents (parent matched !dir/*) are sent",
     files("dir/a", "dir/b/c"), dockerignore="dir\n!dir/*\n")
case("b-wild-dir-txt", "B4",
     "*.txt drops dir.txt/ and its contents; !*.txt/keep brings dir.txt/ and dir.txt/keep back",
     files("a.txt", "dir.txt/keep", "dir.txt/x", "b"), dockerignore="*.txt\n!*.txt/keep\n")
case("b-wild-nested-exclude-in-exception", "B4",
     "* + !src/** + src/**/*.test.js: src tree minus the test files, dirs sent",
     files("src/a.js", "src/a.test.js", "src/sub/b.js", "src/sub/b.test.js", "top.js"),
     dockerignore="*\n!src/**\nsrc/**/*.test.js\n")
case("b-wild-doublestar-slash-keep-deep", "B4",
     "vendor + !vendor/**/LICENSE: every LICENSE under vendor with its directories",
     files("vendor/a/LICENSE", "vendor/a/x.go", "vendor/b/c/LICENSE", "vendor/b/c/y.go", "vendor/d/z.go"),
     dockerignore="vendor\n!vendor/**/LICENSE\n")

# ---------------------------------------------------------------------------
# B4 / A14: prefix-only exceptions (fsutil prunes excluded dirs)
# ---------------------------------------------------------------------------
case("b-prefix-prune-unrelated", "B4",
     "exceptions without wildcards prune excluded dirs they cannot reach: node_modules is "
     "skipped, only the re-included file reaches through build/",
     files("node_modules/x/index.js", "build/keep.txt", "build/x", "src/a.js"),
     dockerignore="node_modules\nbuild\n!build/keep.txt\n")
case("b-prefix-trailing-doublestar", "B4",
     "!keep/** has a trailing /** only: keep/ walked and sent (keep itself matches keep/**? no: "
     "prefix 'keep/' does not match 'keep', so keep/ goes lazily before keep/a)",
     files("keep/a", "keep/b/c", "other/d"), dockerignore="*\n!keep/**\n")
case("b-prefix-exception-is-dir", "B4",
     "* + !a/b: a is walked (a/b starts with a/), a/, a/b/, a/b/... sent",
     files("a/b/c", "a/x", "b"), dockerignore="*\n!a/b\n")
case("b-prefix-exception-order-before", "B4",
     "!a/keep before a: the exception is never evaluated with nothing matched yet; "
     "a/keep stays out, a not sent",
     files("a/keep", "a/x"), dockerignore="!a/keep\na\n")
case("b-prefix-no-exceptions", "B4",
     "only exclusions: excluded dirs are skipped whole",
     files("a/x", "a/y/z", "b/c"), dockerignore="a\n")
case("b-prefix-backslash-disables-prune", "B4",
     "an exception with a backslash counts as a wildcard (no pruning); !a/keep\\.txt is the regexp "
     "a/keep\\.txt and matches a/keep.txt: a/ and a/keep.txt sent",
     files("a/keep.txt", "a/keepxtxt", "a/x", "b/y"), dockerignore="a\nb\n!a/keep\\.txt\n")

case("b-prefix-quirk-star-doublestar", "B4",
     "fsutil strips a trailing /** and then a trailing /*, so !a/*/** counts as the literal prefix 'a' "
     "and the excluded a/x is pruned: a/x/y stays out although !a/*/** matches it. Section B "
     "(wildcard before the trailing /** -> walk everything) predicts a/x/ and a/x/y: it disagrees",
     files("a/f", "a/x/y", "a/z/w"), dockerignore="a/x\n!a/*/**\n")
case("b-prefix-quirk-star-doublestar-root", "B4",
     "a + !a/*/**: a is walked (the trimmed text 'a' + '/' starts with 'a/'), every excluded a/<dir> "
     "is pruned, so nothing under a is sent (section B predicts a/, a/x/, a/x/y, a/z/, a/z/w)",
     files("a/f", "a/x/y", "a/z/w", "b"), dockerignore="a\n!a/*/**\n")
case("b-prefix-quirk-star-doublestar-other-wildcard", "B4",
     "a/x + !a/*/** + !zz*: another wildcard exception turns pruning off everywhere, so !a/*/** now "
     "re-includes a/x/y, with a/x/ sent lazily before it",
     files("a/f", "a/x/y", "a/z/w"), dockerignore="a/x\n!a/*/**\n!zz*\n")

# ---------------------------------------------------------------------------
# B5: matching within the walk uses the parent's per-pattern results
# ---------------------------------------------------------------------------
case("b-parent-results-build", "B5",
     "build, !build/keep, build: the third pattern is skipped for build (already matched) and not "
     "re-tried for its children: build/, build/keep/, build/keep/f are sent; build/x stays out",
     files("build/keep/f", "build/x"), dockerignore="build\n!build/keep\nbuild\n")
case("b-parent-results-build-file", "B5",
     "build, !build/keep, build with build/keep a file: build/ and build/keep sent",
     files("build/keep", "build/x"), dockerignore="build\n!build/keep\nbuild\n")
case("b-parent-results-direct-reexclude", "B5",
     "build, !build/keep, build/keep: last match wins, nothing under build is sent",
     files("build/keep", "build/x"), dockerignore="build\n!build/keep\nbuild/keep\n")
case("b-parent-results-star", "B5",
     "*, !x, *: the third '*' matches x itself: x stays out",
     files("x/f", "y"), dockerignore="*\n!x\n*\n")
case("b-last-match-wins", "B5",
     "*.md, !README.md, README*: the last matching pattern wins, README.md excluded; CHANGES.md excluded",
     files("README.md", "CHANGES.md", "main.go"), dockerignore="*.md\n!README.md\nREADME*\n")
case("b-last-match-wins-reinclude", "B5",
     "*.log, !important.log: important.log sent, others excluded",
     files("a.log", "important.log", "b.txt"), dockerignore="*.log\n!important.log\n")
case("b-parent-results-anchored-glob", "B5",
     "docs, !docs/keep.md, *.md: *.md is skipped for docs (already matched) and anchored at the "
     "root anyway: docs/ and docs/keep.md sent",
     files("docs/keep.md", "docs/other.md", "top.md"), dockerignore="docs\n!docs/keep.md\n*.md\n")
case("b-parent-results-reexclude-glob", "B5",
     "a, !a/**, a/*.tmp: a/ tree sent except its direct *.tmp files; a/s/x.tmp stays (a/*.tmp is one level)",
     files("a/x.tmp", "a/y", "a/s/x.tmp"), dockerignore="a\n!a/**\na/*.tmp\n")

# ---------------------------------------------------------------------------
# B6: patterns travel as gRPC metadata
# ---------------------------------------------------------------------------
case("b-grpc-tab-fails", "B6",
     "a pattern with an inner TAB (not trimmed) makes the build fail (non-printable header value)",
     files("a\tb", "c"), dockerignore="a\tb\n")
case("b-grpc-lone-cr-fails", "B6",
     "a lone CR inside a line stays in the pattern and makes the build fail",
     files("a", "c"), dockerignore="a\rb\n")
case("b-grpc-crlf-ok", "B6",
     "CRLF line ends are trimmed: no control byte left, a excluded",
     files("a", "c"), dockerignore="a\r\nb\r\n")
case("b-grpc-unit-separator-fails", "B6",
     "\\x1f is not trimmed (not unicode.IsSpace) and fails the build",
     files("a", "c"), dockerignore="a\x1f\n")
case("b-grpc-del-fails", "B6",
     "DEL (0x7f) is outside the printable range too (not listed in section B, which names 0x01-0x1f)",
     files("a", "c"), dockerignore="a\x7f\n")
case("b-grpc-tab-with-non-ascii-ok", "B6",
     "a non-ASCII pattern anywhere makes all patterns URL-encoded: the TAB pattern then works "
     "and excludes 'a<TAB>b'; é excluded too",
     files("a\tb", "c", "\u00e9"), dockerignore="a\tb\n\u00e9\n")
case("b-grpc-nul-fails", "B6",
     "a NUL byte in a pattern fails the build",
     files("a", "c"), dockerignore="a\x00b\n")
case("b-grpc-invalid-utf8-exact", "B6",
     "a non-UTF-8 exact pattern becomes U+FFFD: it no longer excludes the file named with byte "
     "0xff, but excludes a file literally named with U+FFFD",
     files("\udcff.txt", "\ufffd.txt", "a"), dockerignore="\udcff.txt\n")
case("b-grpc-invalid-utf8-glob", "B6",
     "a non-UTF-8 byte in a glob becomes U+FFFD in the regexp, which matches any invalid byte and "
     "U+FFFD: \\xff*.txt excludes \\xfe.txt, \\xff.txt and U+FFFD.txt",
     files("\udcfe.txt", "\udcff.txt", "\ufffd.txt", "a.txt"), dockerignore="\udcff*.txt\n")
case("b-grpc-invalid-utf8-enables-controls", "B6",
     "the U+FFFD of a non-UTF-8 pattern also switches on URL encoding: a TAB pattern then works",
     files("a\tb", "c"), dockerignore="a\tb\n\udcff\n")

# ---------------------------------------------------------------------------
# B7: types (symlinks are not followed)
# ---------------------------------------------------------------------------
case("b-symlink-dir-not-followed", "B7",
     "ln -> dir is sent as a symlink, nothing below it; ln/x patterns do not apply through it",
     files("dir/x", "dir/y") + [L("ln", "dir")], dockerignore="dir/x\nln/y\n")
case("b-symlink-excluded-by-slash", "B7",
     "'ldir/' excludes the symlink ldir (cleaned to ldir)",
     files("real/f") + [L("ldir", "real")], dockerignore="ldir/\n")
case("b-symlink-dangling-abs", "B7",
     "dangling, absolute and escaping symlinks are sent as symlinks",
     [L("abs", "/etc/passwd"), L("dang", "nowhere"), L("esc", "../../x")] + files("a"), dockerignore=None)
case("b-symlink-dir-excluded-target", "B7",
     "excluding the target dir does not exclude a symlink to it",
     files("dir/x") + [L("ln", "dir")], dockerignore="dir\n")
case("b-symlink-glob-matches-link", "B7",
     "*.lnk matches symlink names like files",
     files("a") + [L("x.lnk", "a"), L("y.lnk", "nowhere")], dockerignore="*.lnk\n")

# ---------------------------------------------------------------------------
# A1-A8: pattern quirks (the same pattern engine as the classic builder)
# ---------------------------------------------------------------------------
case("a1-bang-class", "A1",
     "[!a] is the class {!, a}: files '!' and 'a' excluded, 'b' sent",
     files("!", "a", "b"), dockerignore="[!a]\n")
case("a1-caret-class-slash", "A1",
     "x[^a]y matches x/y (the negated class takes '/') and xby, not xay; x/ itself is sent",
     files("x/y", "xby", "xay"), dockerignore="x[^a]y\n")
case("a1-class-slash", "A1",
     "x[/]y matches x/y",
     files("x/y", "x/z"), dockerignore="x[/]y\n")
case("a2-star-in-class", "A2",
     "x[*] never matches x*: it becomes the regexp x[[^/]*] and matches x] and x[] instead",
     files("x*", "x]", "x[]", "xa"), dockerignore="x[*]\n")
case("a2-question-in-class", "A2",
     "x[?] never matches x?: regexp x[[^/]] matches x[] and x^]",
     files("x?", "x[]", "x^]", "xa"), dockerignore="x[?]\n")
case("a2-bracket-syntax-error", "A2",
     "[]a] is a syntax error: the build fails",
     files("a"), dockerignore="[]a]\n")
case("a3-backslash-d", "A3",
     "file\\d is the regexp \\d: file1 excluded, 'file\\d' and filed sent",
     files("file1", "file\\d", "filed"), dockerignore="file\\d\n")
case("a3-backslash-w-s", "A3",
     "\\w* matches names starting with a word char; a\\sb matches 'a b': only '-x', '.dockerignore' and '.y' "
     "survive (Dockerfile starts with a word char)",
     files("-x", ".y", "a b", "abc"), dockerignore="\\w*\na\\sb\n")
case("a3-backslash-x41", "A3",
     "\\x41 is the regexp escape for A: file A excluded, x41 sent",
     files("A", "x41", "B"), dockerignore="\\x41\n")
case("a3-backslash-a-bel", "A3",
     "\\a is BEL: the file named BEL (0x07) is excluded",
     files("\x07", "a"), dockerignore="\\a\n")
case("a3-backslash-t-tab", "A3",
     "a\\tb (backslash t, printable) matches the file 'a<TAB>b'",
     files("a\tb", "atb"), dockerignore="a\\tb\n")
case("a3-backslash-e-error", "A3",
     "\\e is a regexp syntax error once evaluated: the build fails",
     files("a"), dockerignore="\\e\n")
case("a3-escaped-star", "A3",
     "\\* matches the literal name '*' only",
     files("*", "a"), dockerignore="\\*\n")
case("a4-lazy-exception-error-unused", "A4",
     "!\\e with nothing excluded is never evaluated: accepted, everything sent",
     files("a"), dockerignore="!\\e\n")
case("a4-lazy-error-after-star", "A4",
     "\\e after '*' is never evaluated (everything already matched): accepted, nothing sent",
     files("a", "d/b"), dockerignore="*\n\\e\n")
case("a4-unclosed-bracket", "A4",
     "an unclosed [ is a syntax error: the build fails",
     files("a"), dockerignore="a[\n")
case("a4-reversed-range", "A4",
     "[z-a] is an error: the build fails",
     files("a"), dockerignore="[z-a]\n")
case("a4-trailing-backslash", "A4",
     "a trailing backslash is an error",
     files("a"), dockerignore="a\\\n")
case("a4-trailing-backslash-after-trim", "A4",
     "'a\\ ' is trimmed to 'a\\': an error",
     files("a"), dockerignore="a\\ \n")
case("a4-bang-alone", "A4",
     "'!' alone is an error",
     files("a"), dockerignore="!\n")
case("a5-doublestar-suffix", "A5",
     "**a is a suffix test: xa, x/ya, a and banana excluded; ab sent",
     files("xa", "x/ya", "x/b", "a", "banana", "ab"), dockerignore="**a\n")
case("a5-doublestar-a-star", "A5",
     "**a* is a regexp (.*/)?a[^/]*: a and abc and x/ab excluded, xa and x/ya sent",
     files("a", "abc", "xa", "x/ab", "x/ya"), dockerignore="**a*\n")
case("a5-a-doublestar-z", "A5",
     "a**z matches a/b/z, az and a/z but not abz",
     files("a/b/z", "a/z", "az", "abz", "a/y"), dockerignore="a**z\n")
case("a5-a-doublestar", "A5",
     "a** is a prefix test: a, a.txt, ab/ (and contents) excluded; b sent",
     files("a", "a.txt", "ab/c", "b"), dockerignore="a**\n")
case("a5-dir-doublestar-keeps-dir", "A5",
     "dir/** and dir/* keep the directory itself",
     files("dir/a", "dir/b/c", "dir2/a", "dir2/b/c"), dockerignore="dir/**\ndir2/*\n")
case("a5-doublestar-slash-is-all", "A5",
     "'**/' is cleaned to '**' and matches everything: nothing sent",
     files("a", "b/c"), dockerignore="**/\n")
case("a6-glob-excludes-dir", "A6",
     "*.txt also excludes the directory dir.txt and all below it",
     files("a.txt", "dir.txt/b", "dir.txt/c.md", "d"), dockerignore="*.txt\n")
case("a6-anchored", "A6",
     "patterns are anchored at the root: 'foo' excludes foo, not a/foo",
     files("foo", "a/foo", "a/b"), dockerignore="foo\n")
case("a6-star-slash-one-level", "A6",
     "*/temp* excludes a/temp1 but not temp2 or a/b/temp3",
     files("a/temp1", "temp2", "a/b/temp3"), dockerignore="*/temp*\n")
case("a7-case-sensitive", "A7",
     "matching is case-sensitive: readme.md excludes readme.md only",
     files("README.md", "readme.md", "Readme.md"), dockerignore="readme.md\n")
case("a7-no-normalisation", "A7",
     "no Unicode normalisation: a precomposed e-acute pattern does not match the decomposed name",
     files("caf\u00e9", "cafe\u0301"), dockerignore="caf\u00e9\n")
case("a7-question-is-one-rune", "A7",
     "? is one rune: ?.txt matches e-acute.txt (2 bytes) and a.txt, not ab.txt",
     files("\u00e9.txt", "a.txt", "ab.txt"), dockerignore="?.txt\n")
case("a7-question-invalid-byte", "A7",
     "an invalid UTF-8 byte counts as one rune: ?.txt matches \\xff.txt",
     files("\udcff.txt", "ab.txt"), dockerignore="?.txt\n")
case("a8-cleaning", "A8",
     "./x, /y, q/../z and a//b are cleaned to x, y, z, a/b",
     files("x", "y", "z", "a/b", "a/c", "q/w"), dockerignore="./x\n/y\nq/../z\na//b\n")
case("a8-dot-and-root-match-nothing", "A8",
     "'.', './', '/' and '..' patterns match nothing",
     files("a", "b/c"), dockerignore=".\n./\n/\n..\n../a\n")
case("a8-leading-slash-dotdot", "A8",
     "/../a is cleaned to a",
     files("a", "b"), dockerignore="/../a\n")
case("a8-star-slash", "A8",
     "'*/' is '*': everything at the top level excluded",
     files("a", "b/c"), dockerignore="*/\n")

# ---------------------------------------------------------------------------
# A9-A12: parsing the ignore file (same ignorefile.ReadAll)
# ---------------------------------------------------------------------------
case("a9-comment-column-one", "A9",
     "'#' is a comment only in column 1: ' #x' is the pattern '#x' (trimmed), '\\#y' the regexp #y",
     files("#x", "#y", "#z"), dockerignore="#z\n #x\n\\#y\n")
case("a10-unicode-space-trim", "A10",
     "NBSP, U+3000, VT, FF are trimmed: 'a' and 'b' excluded",
     files("a", "b", "c"), dockerignore="\u00a0a\u3000\n\x0bb\x0c\n")
case("a10-zwsp-not-trimmed", "A10",
     "a zero-width space is not trimmed (not unicode.IsSpace): the pattern 'a\\u200b' does not match 'a'",
     files("a", "a\u200b"), dockerignore="a\u200b\n")
case("a10-exception-spacing", "A10",
     "'!  keep  ' and '  !keep2' are exceptions",
     files("keep", "keep2", "x"), dockerignore="*\n!  keep  \n  !keep2\n")
case("a11-bom-first-line", "A11",
     "a UTF-8 BOM is stripped at the start of the file: 'a' excluded",
     files("a", "b"), dockerignore="\ufeffa\n")
case("a11-bom-later-line-exact", "A11",
     "a BOM at the start of a later line stays in an exact pattern: '\\ufeffb' does not match b",
     files("a", "b"), dockerignore="a\n\ufeffb\n")
case("a11-bom-later-line-regexp", "A11",
     "a BOM in a regexp pattern is dropped by the scanner: '\\ufeff*.md' matches a.md",
     files("a.md", "b"), dockerignore="x\n\ufeff*.md\n")
case("a12-long-line-error", "A12",
     "a line over 64 KiB fails (bufio.Scanner: token too long)",
     files("a"), dockerignore="a" * 70000 + "\n")

# ---------------------------------------------------------------------------
# realistic trees with exceptions
# ---------------------------------------------------------------------------
NODE_IGNORE = """node_modules
**/node_modules
.next
dist
coverage
.git
*.log
logs/*
!logs/.keep
.env*
!.env.example
*.md
!README.md
**/__tests__
**/*.test.ts
Dockerfile*
.dockerignore
"""
case("real-node-app", "B2",
     "node app: deps, VCS, logs (but logs/.keep), env files (but .env.example), docs (but README.md), "
     "tests and the build files stay out; logs/ is sent because logs/* keeps the dir",
     files("package.json", "package-lock.json", "README.md", "CHANGELOG.md", ".env", ".env.local",
           ".env.example", "logs/.keep", "logs/app.log", "npm-debug.log", ".git/HEAD",
           ".git/objects/ab/cd", "node_modules/react/index.js", "node_modules/.bin/x",
           "src/index.ts", "src/index.test.ts", "src/__tests__/a.ts", "src/lib/node_modules/x.js",
           "src/lib/util.ts", "dist/main.js", "coverage/lcov.info", "Dockerfile.dev"),
     dockerignore=NODE_IGNORE)
case("real-node-keep-one-module", "B4",
     "node_modules excluded but one package kept: !node_modules/native-addon/** -> "
     "node_modules/ (lazily), node_modules/native-addon/ and its files",
     files("node_modules/native-addon/build/a.node", "node_modules/native-addon/package.json",
           "node_modules/react/index.js", "src/app.js"),
     dockerignore="node_modules\n!node_modules/native-addon/**\n")
case("real-python", "B3",
     "python: caches, venv, eggs and tests excluded; requirements kept; "
     "!tests/fixtures/data.json brings tests/ and tests/fixtures/ back lazily",
     files("app/__init__.py", "app/__pycache__/x.pyc", "app/main.py", "app/sub/__pycache__/y.pyc",
           "app/sub/mod.py", ".venv/bin/python", "pkg.egg-info/PKG-INFO", "requirements.txt",
           "tests/test_a.py", "tests/fixtures/data.json", "tests/fixtures/big.bin", ".pytest_cache/v"),
     dockerignore="**/__pycache__\n**/*.pyc\n.venv\n*.egg-info\n.pytest_cache\ntests\n"
                  "!tests/fixtures/data.json\n")
case("real-monorepo-readmes", "B4",
     "monorepo: **/*.md excluded but README.md and packages/*/README.md kept (wildcard exception: "
     "no pruning), per-package lib/ output excluded, node_modules everywhere excluded",
     files("README.md", "CONTRIBUTING.md", "packages/a/README.md", "packages/a/CHANGELOG.md",
           "packages/a/lib/index.js", "packages/a/src/index.ts", "packages/b/README.md",
           "packages/b/docs/x.md", "packages/b/node_modules/dep/README.md", "packages/b/src/b.ts",
           "node_modules/x/README.md", ".git/config"),
     dockerignore=".git\n**/node_modules\n/packages/*/lib\n**/*.md\n!README.md\n!packages/*/README.md\n")
case("real-monorepo-only-one-service", "B3",
     "monorepo, only one service: '*' then !services/api and !libs/common: "
     "services/ and libs/ sent lazily before their re-included subdirs",
     files("services/api/main.go", "services/api/go.mod", "services/web/index.js", "libs/common/x.go",
           "libs/ui/y.tsx", "docs/z.md", "go.work"),
     dockerignore="*\n!services/api\n!libs/common\n!go.work\n")
case("real-go-vendor", "B4",
     "go service: bin/ and *.test excluded, vendor kept except its testdata (**/testdata)",
     files("cmd/app/main.go", "bin/app", "app.test", "vendor/modules.txt", "vendor/a/b.go",
           "vendor/a/testdata/t.txt", "internal/x/testdata/u.txt", "internal/x/x.go"),
     dockerignore="bin\n*.test\n**/testdata\n")
case("real-rust-target", "B3",
     "rust: target excluded except target/release/app (a/, release/ lazily)",
     files("Cargo.toml", "src/main.rs", "target/debug/app", "target/release/app",
           "target/release/deps/x.rlib"),
     dockerignore="target\n!target/release/app\n")
case("real-java-gradle", "B4",
     "gradle: build/ and .gradle/ excluded everywhere except built jars (**/build/libs/*.jar)",
     files("settings.gradle", "app/build.gradle", "app/build/libs/app.jar", "app/build/tmp/x",
           "app/src/main/java/A.java", ".gradle/caches/c", "lib/build/libs/lib.jar", "lib/build/classes/B.class"),
     dockerignore=".gradle\n**/build\n!**/build/libs/*.jar\n")
case("real-docs-site", "B5",
     "docs site: public/ excluded, public/robots.txt kept, then *.txt excluded again at the root "
     "level only (anchored), so public/robots.txt stays",
     files("public/robots.txt", "public/index.html", "notes.txt", "content/a.md"),
     dockerignore="public\n!public/robots.txt\n*.txt\n")
case("real-secrets", "B5",
     "secrets: **/*.pem and **/.env excluded everywhere, one public cert re-included",
     files("certs/ca.pem", "certs/public/ca.pem", "svc/.env", "svc/app.py", "key.pem"),
     dockerignore="**/*.pem\n**/.env\n!certs/public/ca.pem\n")


# Where the Dockerfile is loaded from (measured on the engine: dockerd 26.1,
# buildx 0.13.1).  buildx sends the Dockerfile's directory with its base
# name as the only include pattern; the frontend then opens that name.
case("b-dockerfile-directory", "B2",
     "a Dockerfile that is a directory: the frontend fails reading it",
     [D("Dockerfile"), F("Dockerfile/x", "x\n")] + files("a"), dockerfile=False, engine=True)
case("b-f-dockerfile-directory", "B2",
     "-f naming a directory: the frontend fails reading it",
     [D("sub"), D("sub/app.Dockerfile"), F("sub/app.Dockerfile/x", "x\n")] + files("a"),
     args=["-f", "sub/app.Dockerfile"], dockerfile=False, engine=True)
case("b-dockerfile-name-glob-selects-other", "B2",
     "-f Dockerfile[1]: the include pattern selects Dockerfile1, not itself: open fails",
     [F("Dockerfile[1]", DF), F("Dockerfile1", DF)] + files("a"),
     args=["-f", "Dockerfile[1]"], dockerfile=False, engine=True)
case("b-dockerfile-name-glob-selects-nothing", "B2",
     "-f Dockerfile[1] alone: the include pattern selects nothing: open fails",
     [F("Dockerfile[1]", DF)] + files("a"),
     args=["-f", "Dockerfile[1]"], dockerfile=False, engine=True)
case("b-dockerfile-name-bad-pattern", "B2",
     "-f Docker[file: the include pattern is a syntax error: the transfer fails",
     [F("Docker[file", DF)] + files("a"),
     args=["-f", "Docker[file"], dockerfile=False, engine=True)

case("b-dockerfile-symlink-excluded", "B2",
     "a Dockerfile symlink to docker/Dockerfile.real with '*': nothing is sent (ctxpack "
     "sends the link and its target: a piped build opens the name and follows it)",
     [D("docker"), F("docker/Dockerfile.real", DF), L("Dockerfile", "docker/Dockerfile.real")]
     + files("a"), dockerignore="*\n!a\n", dockerfile=False, engine=True)
case("b-f-symlink-excluded", "B2",
     "-f link.df, a symlink to docker/Dockerfile.real, with 'docker' and 'link.df' excluded",
     [D("docker"), F("docker/Dockerfile.real", DF), L("link.df", "docker/Dockerfile.real")]
     + files("a"), dockerignore="docker\nlink.df\n", args=["-f", "link.df"],
     dockerfile=False, engine=True)
case("b-dockerfile-symlink-sent", "B2",
     "a Dockerfile symlink to docker/Dockerfile.real, nothing excluded: both sent as they are",
     [D("docker"), F("docker/Dockerfile.real", DF), L("Dockerfile", "docker/Dockerfile.real")]
     + files("a"), dockerfile=False, engine=True)


# ---------------------------------------------------------------------------

def b(s):
    return s.encode("utf-8", "surrogateescape")


def materialize(c, root):
    for e in c["tree"]:
        p = os.path.join(root, b(e[1]).decode("utf-8", "surrogateescape"))
        pb = os.fsencode(p)
        if e[0] == "d":
            os.mkdir(pb)
            if len(e) > 2:
                os.chmod(pb, int(e[2], 8))
        elif e[0] == "f":
            with open(pb, "wb") as f:
                f.write(b(e[2]))
            os.chmod(pb, int(e[3], 8) if len(e) > 3 else 0o644)
        elif e[0] == "l":
            os.symlink(b(e[2]), pb)
        else:
            raise ValueError(e)
    ign = {}
    if c["dockerignore"] is not None:
        ign[".dockerignore"] = c["dockerignore"]
    ign.update(c.get("ignorefiles") or {})
    for name, content in ign.items():
        with open(os.path.join(os.fsencode(root), b(name)), "wb") as f:
            f.write(b(content))


def run_bkref(bkref, c):
    with tempfile.TemporaryDirectory(prefix="bkcase-") as tmp:
        root = os.path.join(tmp, "ctx")
        os.mkdir(root)
        materialize(c, root)
        cmd = [bkref, "-t"] + [b(a) for a in (c["args"] or [])] + ["."]
        r = subprocess.run(cmd, cwd=root, capture_output=True)
    if r.returncode != 0:
        msg = r.stderr.decode("utf-8", "surrogateescape").strip()
        return {"error": msg[len("error: "):] if msg.startswith("error: ") else msg}
    members = []
    for line in r.stdout.decode("utf-8", "surrogateescape").splitlines():
        tf, path = line.split("\t", 1)
        members.append([path, tf])
    return {"members": members}


def run_engine(c):
    """docker build (buildx, BuildKit) on the materialized case: what the
    sender sent (the image's ctx/, exported as a tar), or the error it fails
    with, the engine's temporary mount (data root and number) shown
    as <mount>."""
    with tempfile.TemporaryDirectory(prefix="bkcase-") as tmp:
        root = os.path.join(tmp, "ctx")
        os.mkdir(root)
        materialize(c, root)
        out_tar = os.path.join(tmp, "out.tar")
        cmd = (["docker", "build", "--progress=plain", "--output", "type=tar,dest=" + out_tar]
               + [b(a) for a in (c["args"] or [])] + ["."])
        r = subprocess.run(cmd, cwd=root, capture_output=True, timeout=300)
        members = []
        if r.returncode == 0:
            # The case's Dockerfile is `COPY . /ctx`: the image's ctx/ is
            # what BuildKit's sender sent.
            with tarfile.open(out_tar) as t:
                for m in t.getmembers():
                    if m.name.startswith("ctx/"):
                        members.append([m.name[4:] + ("/" if m.isdir() else ""),
                                        m.type.decode()])
    out = (r.stdout + r.stderr).decode("utf-8", "surrogateescape")
    if r.returncode == 0:
        return {"members": members}
    errs = [l[len("ERROR: "):] for l in out.splitlines() if l.startswith("ERROR: ")]
    if not errs:
        sys.exit("%s: docker build failed without an ERROR line:\n%s" % (c["name"], out))
    return {"error": re.sub(r"/\S*/buildkit-mount[0-9]+/", "<mount>/", errs[-1])}


def dockerfile_path(c):
    args = c["args"] or []
    if "-f" in args:
        return os.path.normpath(args[args.index("-f") + 1])
    names = {e[1] for e in c["tree"]}
    return "Dockerfile" if "Dockerfile" in names or "dockerfile" not in names else "dockerfile"


def emit(c, expect):
    out = {k: c[k] for k in ("name", "item", "note", "tree", "dockerignore")}
    if c.get("ignorefiles"):
        out["ignorefiles"] = c["ignorefiles"]
    if c.get("args"):
        out["args"] = c["args"]
    if c.get("engine"):
        out["recorded"] = "engine"
    out["expect"] = expect
    if "members" in expect:
        df = dockerfile_path(c)
        in_tree = any(e[1] == df and e[0] == "f" for e in c["tree"])
        if in_tree and not any(m[0] == df for m in expect["members"]):
            out["dockerfile_not_sent"] = df
        link = [e for e in c["tree"] if e[1] == df and e[0] == "l"]
        if link:
            # a symlink Dockerfile: ctxpack sends the name and its target
            target = os.path.normpath(os.path.join(os.path.dirname(df), link[0][2]))
            sent = {m[0] for m in expect["members"]}
            out_l = [p for p in (df, target) if p not in sent]
            if out_l:
                out["dockerfile_not_sent"] = out_l
    return json.dumps(out, ensure_ascii=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bkref", help="path to the reference sender (computes the expectations)")
    ap.add_argument("--engine", action="store_true",
                    help="measure the engine=True cases on the real engine")
    ap.add_argument("--check", action="store_true", help="compare with --out instead of writing")
    ap.add_argument("--out", default=DEFAULT_OUT)
    a = ap.parse_args()

    committed = {}
    if os.path.exists(a.out):
        with open(a.out) as f:
            for line in f:
                if line.strip():
                    d = json.loads(line)
                    committed[d["name"]] = d
    lines, missing = [], []
    for c in CASES:
        if c["engine"] and a.engine:
            expect = run_engine(c)
        elif c["engine"] and not a.engine and c["name"] not in committed:
            missing.append(c["name"] + " (--engine)")
            continue
        elif c["engine"]:
            expect = committed[c["name"]]["expect"]
        elif a.bkref:
            expect = run_bkref(a.bkref, c)
        elif c["name"] in committed:
            expect = committed[c["name"]]["expect"]
        else:
            missing.append(c["name"])
            continue
        lines.append(emit(c, expect))
    if missing:
        sys.exit("no committed expectation for: %s (run with --bkref)" % ", ".join(missing))
    text = "\n".join(lines) + "\n"
    if a.check:
        with open(a.out) as f:
            old = f.read()
        if old != text:
            old_l, new_l = old.splitlines(), text.splitlines()
            for o, n in zip(old_l, new_l):
                if o != n:
                    print("differs: %s" % json.loads(n)["name"], file=sys.stderr)
            if len(old_l) != len(new_l):
                print("line count %d -> %d" % (len(old_l), len(new_l)), file=sys.stderr)
            sys.exit(1)
        print("%d cases match %s" % (len(lines), a.out))
        return
    with open(a.out, "w") as f:
        f.write(text)
    print("%d cases written to %s" % (len(lines), a.out))


if __name__ == "__main__":
    main()
