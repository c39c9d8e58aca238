#!/usr/bin/env python3
"""cases_classic.py: the case specs behind tests/vectors/docker-classic.jsonl.

Prints JSON Lines (see record.py for the format) without "expect"; the
recorder fills that in by running the real docker CLI:

    tests/oracle/cases_classic.py > /tmp/specs.jsonl
    tests/oracle/record.py --in /tmp/specs.jsonl \\
        --out tests/vectors/docker-classic.jsonl

Cases are grouped by the numbered items of DOCKER-SEMANTICS.md section A
("A1".."A26"), then realistic trees ("R") and multi-rule interactions
("M").  Names are "<item>-<slug>", e.g. "a05-starstar-a".  Nothing here
states what docker does; the notes say what the case probes.
"""

import json
import sys

DOCKERFILE = ["f", "Dockerfile", "FROM scratch\n"]
CASES = []


def tree(*items, dockerfile=True):
    """Mini-DSL: "dir/" is a directory, "name" a file whose content is its
    own name, lists are passed through as entries."""
    out = [list(DOCKERFILE)] if dockerfile else []
    for it in items:
        if isinstance(it, (list, tuple)):
            out.append(list(it))
        elif it.endswith("/"):
            out.append(["d", it[:-1]])
        else:
            out.append(["f", it, it + "\n"])
    return out


def case(name, item, tr, di, note=None, args=None, **extra):
    c = {"name": name, "item": item}
    if note:
        c["note"] = note
    c.update(extra)
    c["tree"] = tr
    c["dockerignore"] = di
    if args:
        c["args"] = list(args)
    CASES.append(c)


def matrix(prefix, item, tr, patterns, note=None):
    """One case per (slug, .dockerignore text) on the same tree."""
    for slug, di in patterns:
        case("%s-%s" % (prefix, slug), item, tr, di, note=note)


# ---------------------------------------------------------------- A1 ------
# [!a] is the class {!,a}; [^a] negates and matches '/'; x[/]y matches x/y.
T1 = tree("x!y", "xay", "xby", "xcy", "x^y", "x/", "x/y", "x/z", "a/",
          "a/c", "abc", "dirx/", "dirx/f", "dir/", "dir/foo", "dira")
matrix("a01", "A1", T1, [
    ("bang-is-not-negation", "x[!a]y\n"),
    ("bang-range", "x[!a-b]y\n"),
    ("caret-negates", "x[^a]y\n"),
    ("caret-matches-slash", "x[^ab!^c]y\n"),
    ("slash-in-class", "x[/]y\n"),
    ("double-bang", "x[!!]y\n"),
    ("escaped-bang", "x[\\!a]y\n"),
    ("star-bang-suffix", "*[!y]\n"),
    ("caret-range-slash", "a[^b-d]c\n"),
    ("dir-caret-star", "dir[^x]*\n"),
    ("caret-star-only", "[^D]*\n"),
    ("bang-class-exception", "x*\n![!a]*\n!x[!a]y\n"),
])

# ---------------------------------------------------------------- A2 ------
# * and ? inside brackets break the class; []a] is a syntax error.
T2 = tree("x*", "x?", "x]", "x[]", "x^]", "xa", "x", "x[", "a]", "b",
          "xb", "x-]", "x1", "x:", "x-", "x[:", "x:]", "x1]")
matrix("a02", "A2", T2, [
    ("star-in-class", "x[*]\n"),
    ("question-in-class", "x[?]\n"),
    ("star-in-range", "x[a*c]\n"),
    ("close-bracket-first", "[]a]\n"),
    ("close-bracket-first-mid", "x[]a]\n"),
    ("empty-class", "x[]\n"),
    ("escaped-star-in-class", "x[\\*]\n"),
    ("class-then-star", "x[ab]*\n"),
    ("caret-star-in-class", "x[^*]\n"),
    ("posix-class-digit", "x[[:digit:]]\n"),
    ("escaped-close-in-class", "x[\\]]\n"),
    ("trailing-dash-in-class", "x[a-]\n"),
    ("caret-close-first", "x[^]]\n"),
])

# ---------------------------------------------------------------- A3 ------
# Backslash escapes reach Go's regexp.
T3 = tree("file1", "filed", "file\\d", "fileA", "abc", "a-b", "_x", "-x",
          ".x", "a b", "a\tb", "asb", "A", "x41", "a", "\x07", "atb",
          "a*b", "axb", "ab", "e", "\\e", "a\\b", "a.b", "a^b", "a^bc",
          "a$", "a{2}", "aa", "a+", "(a)", "a|b", "b")
matrix("a03", "A3", T3, [
    ("backslash-d", "file\\d\n"),
    ("backslash-w-star", "\\w*\n"),
    ("backslash-s", "a\\sb\n"),
    ("hex-41", "\\x41\n"),
    ("bel", "\\a\n"),
    ("tab", "a\\tb\n"),
    ("backslash-e-error", "\\e\n"),
    ("escaped-star", "a\\*b\n"),
    ("backslash-b-word-boundary", "a\\b\n"),
    ("escaped-dot", "a\\.b\n"),
    ("escaped-backslash", "a\\\\b\n"),
    ("caret-literal-exact", "a^b\n"),
    ("caret-with-star", "a^b*\n"),
    ("dollar-literal", "a$\n"),
    ("braces-literal", "a{2}\n"),
    ("braces-with-star", "a{2}*\n"),
    ("plus-with-star", "a+*\n"),
    ("parens-with-star", "(a)*\n"),
    ("pipe-with-star", "a|b*\n"),
    ("backslash-D-upper", "file\\D\n"),
    ("backslash-p-class", "\\pL\n"),
    ("backslash-Q", "\\Qa.b\n"),
    ("dot-with-star", "a.*\n"),
    ("dollar-with-star", "a$*\n"),
    ("pipe-exact", "a|b\n"),
    ("brace-open-star", "a{*\n"),
    ("unknown-escape-i", "a\\i\n"),
    ("escaped-slash", "a\\/b\n"),
])

# ---------------------------------------------------------------- A4 ------
# Lazy compilation: bad patterns only fail when evaluated.
T4 = tree("a", "b", "sub/", "sub/c", "x", "z")
matrix("a04", "A4", T4, [
    ("bang-e-nothing-excluded", "!\\e\n"),
    ("bang-e-after-exclusion", "a\n!\\e\n"),
    ("e-after-star", "*\n\\e\n"),
    ("e-before-star", "\\e\n*\n"),
    ("e-after-star-with-exception", "*\n\\e\n!a\n"),
    ("unclosed-bracket", "[\n"),
    ("unclosed-bracket-later", "a\nx[a\n"),
    ("bang-unclosed-bracket", "!x[a\n"),
    ("reversed-range", "[z-a]\n"),
    ("reversed-range-after-star", "*\nx[z-a]\n"),
    ("trailing-backslash", "a\\\n"),
    ("trailing-backslash-space", "a\\ \n"),
    ("trailing-backslash-after-star", "*\nx\\\n"),
    ("bang-alone", "!\n"),
    ("bang-space-alone", "! \n"),
    ("bad-repeat", "a{2,1}*\n"),
    ("bad-regexp-after-star", "*\nx(*\n"),
    ("paren-star-is-fine", "x(*\n"),
    ("unclosed-bracket-after-star", "*\nx[a\n"),
    ("bad-repeat-after-star", "*\na{2,1}*\n"),
    ("repeat-too-large", "x{2,1001}*\n"),
    ("bad-unicode-class", "\\p{Foo}\n"),
    ("bad-unicode-class-after-star", "*\n\\p{Foo}\n"),
    ("unknown-escape-after-star", "*\na\\i\n"),
    ("exception-error-after-exception", "a\n!a\n!\\e\n"),
])

# ---------------------------------------------------------------- A5 ------
# ** fast paths (prefix/suffix tests) versus the regexp path.
T5 = tree("a", "xa", "x/", "x/ya", "x/yb", "ab", "abz", "az", "ac/",
          "ac/c", "a.txt", "b.txt", "d/", "d/b.txt", "dir/", "dir/f",
          "dir/sub/", "dir/sub/g", "dirx", "a2/", "a2/b/", "a2/b/z",
          "x.txt/", "x.txt/y", "foo/", "foo/bar", "foo/x/", "foo/x/bar")
matrix("a05", "A5", T5, [
    ("starstar-a", "**a\n"),
    ("starstar-a-star", "**a*\n"),
    ("a-starstar-z", "a**z\n"),
    ("a-starstar", "a**\n"),
    ("dir-starstar", "dir/**\n"),
    ("dir-star", "dir/*\n"),
    ("starstar-alone", "**\n"),
    ("starstar-slash-alone", "**/\n"),
    ("starstar-slash-name", "**/ya\n"),
    ("starstar-slash-star-txt", "**/*.txt\n"),
    ("starstar-dot-txt", "**.txt\n"),
    ("foo-starstar-bar", "foo/**/bar\n"),
    ("foo-starstar-slash", "foo/**/\n"),
    ("star-a-starstar", "*a**\n"),
    ("triple-star", "***\n"),
    ("triple-star-a", "***a\n"),
    ("starstar-slash-starstar", "**/**\n"),
    ("starstar-slash-sub-slash-starstar", "**/sub/**\n"),
    ("dir-starstar-g", "dir/**/g\n"),
    ("starstar-b", "**/b\n"),
    ("starstar-exception", "**\n!foo/**\n"),
    ("dir-starstar-keep-dir", "dir/**\n!dir/sub\n"),
])

# ---------------------------------------------------------------- A6 ------
# A matching directory takes its subtree; symlinks; anchoring.
T6 = tree("dir.txt/", "dir.txt/inner", "dir.txt/deep/", "dir.txt/deep/x",
          "a.txt", "real/", "real/f", ["l", "ldir", "real"],
          ["l", "lfile", "a.txt"], "sub/", "sub/foo", "sub/sub/",
          "sub/sub/foo", "foo", "b/", "b/foo/", "b/foo/z")
matrix("a06", "A6", T6, [
    ("glob-excludes-dir", "*.txt\n"),
    ("ldir-slash-on-symlink", "ldir/\n"),
    ("ldir-no-slash", "ldir\n"),
    ("ldir-star-inside", "ldir/*\n"),
    ("lfile-slash", "lfile/\n"),
    ("anchored-foo", "foo\n"),
    ("anchored-sub-foo", "sub/foo\n"),
    ("star-slash-foo", "*/foo\n"),
    ("star-star-slash-foo", "*/*/foo\n"),
    ("leading-slash-anchored", "/sub/foo\n"),
    ("dir-slash", "sub/\n"),
    ("trailing-slash-file", "foo/\n"),
    ("exception-inside-glob-dir", "*.txt\n!dir.txt/inner\n"),
])

# ---------------------------------------------------------------- A7 ------
# Bytewise matching: case, normalisation, runes, invalid UTF-8.
NFC = "\u00e9"          # é precomposed
NFD = "e\u0301"         # e + combining acute
T7 = tree("README.md", "readme.md", "Readme.MD", "x" + NFC + ".txt",
          "y" + NFD + ".txt", "x\u00e4y", "x\u00e4\u00e4y", "xay",
          "x\udcffy", "x\udcfey", "x\udcff\udcfey", "x\ufffdy",
          "x\udcff", "x\udcfe", "x\ufffd", "x\u20acy", "x\udce2\udc82y")
matrix("a07", "A7", T7, [
    ("case-sensitive-exact", "readme.md\n"),
    ("case-sensitive-glob", "*.md\n"),
    ("case-class", "[Rr]eadme.md\n"),
    ("nfc-pattern", "x" + NFC + ".txt\ny" + NFC + ".txt\n"),
    ("nfd-pattern", "x" + NFD + ".txt\ny" + NFD + ".txt\n"),
    ("question-one-rune", "x?y\n"),
    ("two-questions", "x??y\n"),
    ("invalid-byte-exact", "x\udcffy\n"),
    ("invalid-byte-regexp", "x\udcff*\n"),
    ("invalid-byte-regexp-q", "x\udcff?\n"),
    ("fffd-regexp", "x\ufffd*\n"),
    ("invalid-byte-in-class", "x[\udcff]y\n"),
    ("multibyte-class", "x[\u00e4]y\n"),
    ("invalid-byte-in-class-after-star", "*\nx[\udcff]y\n"),
    ("invalid-byte-star-exact-name", "\udcff*\n"),
    ("caret-class-multibyte", "x[^a]y\n"),
    ("truncated-utf8-exact", "x\udce2\udc82y\n"),
    ("truncated-utf8-star", "x\udce2\udc82*\n"),
])

# ---------------------------------------------------------------- A8 ------
# Pattern cleaning.
T8 = tree("x", "y", "a/", "a/b", "c/", "c/d", "keep", "dir/", "dir/f")
matrix("a08", "A8", T8, [
    ("dot-slash", "./x\n"),
    ("leading-slash", "/x\n"),
    ("dotdot-inside", "x/../y\n"),
    ("double-slash", "a//b\n"),
    ("slash-dotdot", "/../a\n"),
    ("dot", ".\n"),
    ("dot-slash-alone", "./\n"),
    ("slash-alone", "/\n"),
    ("dotdot", "..\n"),
    ("dotdot-slash-x", "../x\n"),
    ("starstar-slash", "**/\n"),
    ("star-slash", "*/\n"),
    ("trailing-dot", "a/.\n"),
    ("double-leading-slash", "//x\n"),
    ("bang-dot-slash", "*\n!./keep\n"),
    ("bang-leading-slash", "*\n!/keep\n"),
    ("bang-dotdot", "*\n!x/../keep\n"),
    ("bang-dot", "*\n!.\n"),
    ("trailing-slashes", "dir///\n"),
    ("dot-star", "./*\n!./dir\n"),
])

# ---------------------------------------------------------------- A9 ------
# '#' is a comment only in column 1.
T9 = tree("#x", "x", "#", "a#b", " #x")
matrix("a09", "A9", T9, [
    ("comment", "#x\n"),
    ("space-hash", " #x\n"),
    ("tab-hash", "\t#x\n"),
    ("escaped-hash", "\\#x\n"),
    ("hash-alone", "#\n"),
    ("hash-in-middle", "a#b\n"),
    ("bang-hash", "*\n!#x\n"),
    ("comment-with-bang", "*\n#!x\n"),
    ("hash-star", "\\#*\n"),
])

# ---------------------------------------------------------------- A10 -----
# Trimming with Go's unicode.IsSpace; CR handling; '!' with spaces.
T10 = tree("x", "keep", "\x1cx", "x\x1f", "\u200bx", "x\ry", "x\r",
           "x\u0085", "x\udc85", "y")
ws = [("nbsp", "\u00a0"), ("nel", "\u0085"), ("en-space", "\u2002"),
      ("line-sep", "\u2028"), ("ideographic-space", "\u3000"),
      ("vt", "\x0b"), ("ff", "\x0c"), ("fs-1c", "\x1c"), ("us-1f", "\x1f"),
      ("zwsp", "\u200b"), ("para-sep", "\u2029"), ("nnbsp", "\u202f")]
for slug, ch in ws:
    case("a10-trim-%s" % slug, "A10", T10, "%sx%s\n" % (ch, ch),
         note="U+%04X around x" % ord(ch))
matrix("a10", "A10", T10, [
    ("crlf", "x\r\ny\r\n"),
    ("crlf-no-final-newline", "x\r\ny\r"),
    ("lone-cr", "x\ry\n"),
    ("cr-only-lines", "x\ry\r"),
    ("bang-spaces-both-sides", "*\n!  keep  \n"),
    ("spaces-then-bang", "*\n  !keep\n"),
    ("bang-tab-name", "*\n!\tkeep\n"),
    ("trailing-tab-space", "x \t \n"),
    ("raw-0x85-byte", "x\udc85\n"),
    ("leading-1c-before-bang", "*\n\x1c!keep\n"),
])

# ---------------------------------------------------------------- A11 -----
# UTF-8 BOM only stripped at file start.
T11 = tree("x", "b", "\ufeffb", "a.md", "\ufeffa.md", "#c", "\ufeff#c")
matrix("a11", "A11", T11, [
    ("bom-at-start", "\ufeffx\n"),
    ("bom-later-line-exact", "x\n\ufeffb\n"),
    ("bom-later-line-regexp", "x\n\ufeff*.md\n"),
    ("bom-then-comment", "\ufeff#c\n"),
    ("double-bom", "\ufeff\ufeffb\n"),
    ("bom-later-comment", "x\n\ufeff#c\n"),
    ("bom-then-bang", "\ufeff!x\n*\n!b\n"),
    ("bom-only", "\ufeff"),
])

# ---------------------------------------------------------------- A12 -----
# .dockerignore oddities: long lines, directory, symlinks.
T12 = tree("x", "y", "z")
for n in (65535, 65536):
    case("a12-line-%d" % n, "A12", T12, "y\n" + "q" * n + "\nx\n",
         note="a %d-byte line between two patterns" % n)
case("a12-long-last-line-no-newline", "A12", T12, "x\n" + "q" * 65536)
case("a12-line-65535-last-no-newline", "A12", T12, "x\n" + "q" * 65535)
case("a12-line-65535-crlf", "A12", T12, "y\r\n" + "q" * 65535 + "\r\nx\r\n")
case("a12-dockerignore-is-directory", "A12",
     tree("x", ".dockerignore/", ".dockerignore/y"), None)
case("a12-dockerignore-dangling-symlink", "A12",
     tree("x", ["l", ".dockerignore", "nowhere"]), None)
case("a12-dockerignore-symlink", "A12",
     tree("x", "y", ["f", "ignore.txt", "x\n"],
          ["l", ".dockerignore", "ignore.txt"]), None)
case("a12-dockerignore-symlink-excludes-target", "A12",
     tree("x", ["f", "ignore.txt", "ignore.txt\n.dockerignore\nx\n"],
          ["l", ".dockerignore", "ignore.txt"]), None)
case("a12-dockerignore-symlink-to-dir", "A12",
     tree("x", "d/", ["l", ".dockerignore", "d"]), None)
case("a12-dockerignore-empty", "A12", T12, "")
case("a12-dockerignore-only-blank", "A12", T12, "\n\n  \n\t\n")
case("a12-dockerignore-excludes-itself", "A12", T12, ".dockerignore\nx\n")

# ---------------------------------------------------------------- A13 -----
# Last match wins; re-included files come without their parents.
T13 = tree("a.txt", "b.txt", "dir/", "dir/keep", "dir/other",
           "dir/sub/", "dir/sub/keep", "dir/sub/x")
matrix("a13", "A13", T13, [
    ("exception-after", "*.txt\n!a.txt\n"),
    ("exception-before", "!a.txt\n*.txt\n"),
    ("reexclude", "*.txt\n!*.txt\nb.txt\n"),
    ("dir-keep", "dir\n!dir/keep\n"),
    ("dir-deep-keep", "dir\n!dir/sub/keep\n"),
    ("dir-keep-subdir", "dir\n!dir/sub\n"),
    ("dir-reinclude-dir", "dir\n!dir\n"),
    ("dir-star-keep", "dir/*\n!dir/keep\n"),
    ("dir-keep-then-exclude-again", "dir\n!dir/keep\ndir/keep\n"),
    ("dir-star-keep-glob", "dir\n!dir/*keep\n"),
    ("two-exceptions", "dir\n!dir/keep\n!dir/sub/x\n"),
    ("exception-no-exclusion", "!dir/keep\n"),
])

# ---------------------------------------------------------------- A14 -----
# The walker only enters an excluded dir if an exception's literal text
# starts with "dir/"; parent results are reused.
T14 = tree("dir/", "dir/keep", "dir/x", "dir/sub/", "dir/sub/keep",
           "build/", "build/keep/", "build/keep/k", "build/o", "a/",
           "a/build/", "a/build/keep", "a/build/o", "src/", "src/a.js",
           "src/b.txt", "src/lib/", "src/lib/b.js", "keep")
matrix("a14", "A14", T14, [
    ("star-slash-keep", "dir\n!*/keep\n"),
    ("starstar-keep", "dir\n!**/keep\n"),
    ("glob-prefix-keep", "dir\n!di*/keep\n"),
    ("literal-keep", "dir\n!dir/keep\n"),
    ("starstar-build-keep", "**/build\n!**/build/keep\n"),
    ("star-src-starstar-js", "*\n!src/**/*.js\n"),
    ("star-src-star-js", "*\n!src/*.js\n"),
    ("star-src", "*\n!src\n"),
    ("parent-results", "build\n!build/keep\nbuild\n"),
    ("parent-results-star", "build\n!build/keep\nbuild/*\n"),
    ("bang-dir-no-slash", "dir\n!dir\n"),
    ("bang-dirx-prefix", "dir\n!dirx/keep\n"),
    ("bang-dir-slash-star", "dir\n!dir/*\n"),
    ("exception-escape-prefix", "dir\n!d\\ir/keep\n"),
    ("exception-class-prefix", "dir\n![d]ir/keep\n"),
    ("exception-escaped-slash", "dir\n!dir\\/keep\n"),
    ("exception-question-prefix", "dir\n!dir/kee?\n"),
    ("exception-in-deeper", "a\n!a/build/keep\n"),
    ("exception-deeper-glob", "a\n!a/*/keep\n"),
])

# ---------------------------------------------------------------- A15 -----
# Empty excluded dirs are not sent; excluding contents keeps the dir.
T15 = tree("dir/", "dir/a", "dir/b", "empty/", "e2/", "e2/e3/", "f")
matrix("a15", "A15", T15, [
    ("contents-excluded-keeps-dir", "dir/*\n"),
    ("dir-excluded", "dir\n"),
    ("exception-matches-nothing", "dir\n!dir/nothing\n"),
    ("empty-dir-excluded", "empty\n"),
    ("nested-empty-contents", "e2/*\n"),
    ("all-files", "**/a\n**/b\nf\n"),
    ("exception-for-empty-dir", "*\n!e2/e3\n"),
])

# ---------------------------------------------------------------- A16 -----
# Dockerfile and .dockerignore are re-added by appending patterns.
T16 = tree(["f", "Dockerfile[1]", "FROM scratch\n"], "Dockerfile1",
           "Dockerxfile", "Docker*file", "other", ["f", "Docker[file", "x"],
           dockerfile=False)
case("a16-bracket-name-readds-other", "A16", T16, "*\n",
     args=["-f", "Dockerfile[1]"])
case("a16-star-name-readds-more", "A16", T16, "*\n",
     args=["-f", "Docker*file"])
case("a16-unclosed-bracket-name", "A16", T16, "*\n",
     args=["-f", "Docker[file"])
case("a16-unclosed-bracket-name-not-excluded", "A16", T16, "other\n",
     args=["-f", "Docker[file"])
case("a16-dockerfile-excluded", "A16", tree("a", "b"), "Dockerfile\na\n")
case("a16-dockerignore-excluded", "A16", tree("a", "b"), ".dockerignore\n")
case("a16-star-excludes-both", "A16", tree("a", "b"), "*\n")
case("a16-exception-then-reexclude", "A16", tree("a", "b"),
     "*\n!Dockerfile\nDockerfile\n")
case("a16-question-name", "A16",
     tree(["f", "Docker?", "FROM scratch\n"], "Dockerx", "DockerX",
          dockerfile=False), "*\n", args=["-f", "Docker?"])
case("a16-dot-slash-f", "A16",
     tree(["f", "sub/Dockerfile", "FROM scratch\n"], "sub/a", "b",
          dockerfile=False), "sub\n", args=["-f", "./sub/Dockerfile"])
case("a16-double-slash-f", "A16",
     tree(["f", "sub/Dockerfile", "FROM scratch\n"], "sub/a", "b",
          dockerfile=False), "sub\n", args=["-f", "sub//Dockerfile"])
case("a16-dotdot-f", "A16",
     tree(["f", "sub/Dockerfile", "FROM scratch\n"], "sub/a", "x/", "b",
          dockerfile=False), "sub\n", args=["-f", "x/../sub/Dockerfile"])
case("a16-trailing-space-name", "A16",
     tree(["f", "Dockerfile ", "FROM scratch\n"], "Dockerfile", "b",
          dockerfile=False), "*\n", args=["-f", "Dockerfile "])
case("a16-hash-name", "A16",
     tree(["f", "#df", "FROM scratch\n"], "b", dockerfile=False), "*\n",
     args=["-f", "#df"])
case("a16-bang-name", "A16",
     tree(["f", "!df", "FROM scratch\n"], "df", "b", dockerfile=False),
     "*\n", args=["-f", "!df"])
case("a16-named-file", "A16",
     tree(["f", "app.Dockerfile", "FROM scratch\n"], "a", "b"),
     "*.Dockerfile\nDockerfile\n", args=["-f", "app.Dockerfile"])

# ---------------------------------------------------------------- A17 -----
# The re-add check uses the one-level parent matcher.
T17 = tree(["f", "sub/Dockerfile", "FROM scratch\n"],
           ["f", "x/y/sub/Dockerfile", "FROM scratch\n"], "sub/a", "x/y/b",
           "x/y/sub/c", dockerfile=False)
case("a17-starstar-sub-nested-f", "A17", T17, "**/sub\n",
     args=["-f", "sub/Dockerfile"])
case("a17-starstar-sub-deep-f", "A17", T17, "**/sub\n",
     args=["-f", "x/y/sub/Dockerfile"])
case("a17-sub-excluded-nested-f", "A17", T17, "sub\n",
     args=["-f", "sub/Dockerfile"])
case("a17-x-excluded-deep-f", "A17", T17, "x\n",
     args=["-f", "x/y/sub/Dockerfile"])
case("a17-x-y-excluded-deep-f", "A17", T17, "x/y\n",
     args=["-f", "x/y/sub/Dockerfile"])
case("a17-star-slash-y-deep-f", "A17", T17, "*/y\n",
     args=["-f", "x/y/sub/Dockerfile"])
case("a17-starstar-dockerfile", "A17", T17, "**/Dockerfile\n",
     args=["-f", "sub/Dockerfile"])
case("a17-star-nested-f", "A17", T17, "*\n", args=["-f", "sub/Dockerfile"])

# ---------------------------------------------------------------- A18 -----
# Dockerfile lookup: fallback, symlinks, directory.
case("a18-lowercase-fallback", "A18",
     tree(["f", "dockerfile", "FROM scratch\n"], "a", dockerfile=False),
     "*\n")
case("a18-uppercase-no-fallback", "A18",
     tree(["f", "DOCKERFILE", "FROM scratch\n"], "a", dockerfile=False),
     "*\n")
case("a18-both-names", "A18",
     tree(["f", "dockerfile", "FROM scratch\n"], "a"), "*\n")
case("a18-symlink-to-real", "A18",
     tree(["f", "docker/Dockerfile.real", "FROM scratch\n"],
          ["l", "Dockerfile", "docker/Dockerfile.real"], "a",
          dockerfile=False), "*\n")
case("a18-symlink-to-real-not-excluded", "A18",
     tree(["f", "docker/Dockerfile.real", "FROM scratch\n"],
          ["l", "Dockerfile", "docker/Dockerfile.real"], "a",
          dockerfile=False), "docker\n")
case("a18-symlink-outside", "A18",
     tree(["l", "Dockerfile", "../ext/Dockerfile"], "a",
          dockerfile=False), "*\n",
     outside=[["f", "ext/Dockerfile", "FROM scratch\n"]])
case("a18-symlink-dangling", "A18",
     tree(["l", "Dockerfile", "nowhere"], "a", dockerfile=False), None)
case("a18-dockerfile-directory", "A18",
     tree("Dockerfile/", "Dockerfile/x", "a", dockerfile=False), None)
case("a18-dockerfile-directory-excluded", "A18",
     tree("Dockerfile/", "Dockerfile/x", "a", dockerfile=False), "*\n")
case("a18-f-symlink", "A18",
     tree(["f", "real.df", "FROM scratch\n"], ["l", "link.df", "real.df"],
          "a", dockerfile=False), "*\n", args=["-f", "link.df"])
# -f naming a symlink inside the context whose target lies outside: the
# CLI opens the name given (following it) and sends it as .dockerfile.<id>.
case("a18-f-symlink-outside", "A18",
     tree(["l", "link.df", "../ext/Dockerfile"], "a", "b",
          dockerfile=False), "# header\nb\n", args=["-f", "link.df"],
     random=True, outside=[["f", "ext/Dockerfile", "FROM scratch\n"]])
case("a18-lowercase-symlink-fallback", "A18",
     tree(["f", "d/real", "FROM scratch\n"], ["l", "dockerfile", "d/real"],
          "a", dockerfile=False), "d\n")
case("a18-missing-dockerfile", "A18", tree("a", dockerfile=False), None)

# ---------------------------------------------------------------- A19 -----
# -f outside the context (generated name: random).
case("a19-outside-no-dockerignore", "A19", tree("a", "b", dockerfile=False),
     None, args=["-f", "../ext/Dockerfile"], random=True,
     outside=[["f", "ext/Dockerfile", "FROM scratch\n"]])
case("a19-outside-with-dockerignore", "A19",
     tree("a", "b", dockerfile=False), "# header\nb\n",
     args=["-f", "../ext/Dockerfile"], random=True,
     outside=[["f", "ext/Dockerfile", "FROM scratch\n"]])

# ---------------------------------------------------------------- A20 -----
# <Dockerfile>.dockerignore is not used by the classic builder.
case("a20-dockerfile-dockerignore-ignored", "A20",
     tree(["f", "Dockerfile.dockerignore", "x\n"], "x", "y"), None)
case("a20-named-dockerignore-ignored", "A20",
     tree(["f", "app.Dockerfile", "FROM scratch\n"],
          ["f", "app.Dockerfile.dockerignore", "*\n"], "x",
          dockerfile=False), "x\n", args=["-f", "app.Dockerfile"])
case("a20-both-files", "A20",
     tree(["f", "Dockerfile.dockerignore", "y\n"], "x", "y"), "x\n")

# ---------------------------------------------------------------- A21 -----
# Symlinks are not followed; hard links.
case("a21-symlink-dir-not-followed", "A21",
     tree("real/", "real/a", ["l", "ldir", "real"]), None)
case("a21-symlinks-all-kinds", "A21",
     tree(["l", "dangling", "nowhere"], ["l", "abs", "/etc/passwd"],
          ["l", "escape", "../../x"], ["l", "self", "self"],
          ["l", "dot", "."]), None)
case("a21-symlink-into-excluded", "A21",
     tree("secret/", "secret/k", ["l", "s", "secret/k"]), "secret\n")
case("a21-pattern-through-symlink", "A21",
     tree("real/", "real/a", ["l", "ldir", "real"]), "ldir/a\n")
case("a21-hardlink-first-carries-data", "A21",
     tree("b", ["h", "a", "b"]), None)
case("a21-hardlink-first-excluded", "A21",
     tree("b", ["h", "a", "b"], ["h", "c", "b"]), "a\n")
case("a21-hardlink-all-but-last-excluded", "A21",
     tree("b", ["h", "a", "b"], ["h", "c", "b"]), "a\nb\n")
case("a21-hardlink-to-symlink", "A21",
     tree(["l", "s", "target"], ["h", "s2", "s"]), None)
case("a21-hardlink-outside", "A21",
     tree(["h", "in", "../ext/f"]), None,
     outside=[["f", "ext/f", "data\n"]])
case("a21-hardlink-excluded-dir", "A21",
     tree("a/", "a/x", "b/", ["h", "b/x", "a/x"]), "a\n")
case("a21-hardlink-reincluded", "A21",
     tree("a/", "a/x", "b/", ["h", "b/x", "a/x"]), "a\n!a/x\n")
case("a21-hardlink-dockerignore", "A21",
     tree(["h", "dilink", ".dockerignore"]), "zzz\n")
case("a21-hardlink-dockerfile", "A21",
     tree(["h", "Adf", "Dockerfile"]), None)
case("a21-hardlink-three-in-dirs", "A21",
     tree("z/", "z/f", "m/", ["h", "m/f", "z/f"], ["h", "a", "z/f"]), None)
case("a21-symlink-excluded-by-glob", "A21",
     tree("real.txt", ["l", "link.txt", "real.txt"], ["l", "l2", "x.txt"]),
     "*.txt\n")

# ---------------------------------------------------------------- A22 -----
# Walk order is bytewise per directory.
T22 = tree("-", "A", "B", "_", "\u00e4", "a.txt", "a-b", "a0", "b/", "b/x",
           "a/", "a/y", "a~", "\udcff", "0", ".hidden", "Z")
case("a22-bytewise-order", "A22", T22, None)
case("a22-bytewise-order-excluded", "A22", T22, "a/y\nb\n")
case("a22-hardlink-order-decides", "A22",
     tree("\u00e4", ["h", "A", "\u00e4"], ["h", "_", "\u00e4"]), None)
case("a22-hardlink-dir-before-dot", "A22",
     tree("a.txt", "a/", ["h", "a/x", "a.txt"]), None)
case("a22-hardlink-dash-vs-slash", "A22",
     tree("a-b", "a/", ["h", "a/b", "a-b"]), None)
case("a22-hardlink-upper-lower", "A22",
     tree("b", ["h", "B", "b"], ["h", "_b", "b"]), None)

# ---------------------------------------------------------------- A23 -----
# Special files and xattrs (headers recorded).
CAP = "\x01\x00\x00\x02\x00\x04\x00\x00" + "\x00" * 12
case("a23-special-files", "A23",
     tree(["p", "fifo"], ["c", "cdev", 1, 3], ["b", "bdev", 7, 0],
          ["c", "whiteout", 0, 0], ["s", "sock"]), None, headers=True)
case("a23-special-files-excluded", "A23",
     tree(["p", "fifo"], ["c", "cdev", 1, 3], ["s", "sock"], "x"),
     "fifo\ncdev\n", headers=True)
case("a23-xattrs", "A23",
     tree(["f", "cap", "x", "0755"], ["x", "cap", "security.capability", CAP],
          ["f", "user", "y"], ["x", "user", "user.foo", "bar"]), None,
     headers=True)
case("a23-fifo-mode", "A23",
     tree(["p", "fifo", "0600"], ["p", "sub/fifo2", "0777"]), None,
     headers=True)

# ---------------------------------------------------------------- A24 -----
# Owner, modes, mtimes (headers recorded).
case("a24-owner-forced-zero", "A24",
     tree("f", ["o", "f", 1000, 1000], "d/", ["o", "d", 65534, 65534],
          ["l", "l", "f"], ["o", "l", 123, 456]), None, headers=True)
case("a24-special-mode-bits", "A24",
     tree(["f", "suid", "x", "4755"], ["f", "sgid", "x", "2711"],
          ["d", "sticky", "1777"], ["f", "plain", "x", "0600"],
          ["d", "d700", "0700"], ["f", "all", "x", "7777"]), None,
     headers=True)
case("a24-mtime-truncated", "A24", tree("f", "d/", "d/g"), None,
     headers=True, mtime_ns=1234567890999999999)
case("a24-mtime-zero", "A24", tree("f", "d/"), None, headers=True,
     mtime_ns=0)

# ---------------------------------------------------------------- A25 -----
# Header formats (headers recorded).
LONGDIR = "d" * 90
case("a25-long-names", "A25",
     tree(LONGDIR + "/", LONGDIR + "/" + "f" * 30,
          "p" * 99, "q" * 100, "r" * 101,
          "s" * 60 + "/" + "t" * 60 + "/" + "u" * 60), None, headers=True)
case("a25-non-ascii-and-invalid", "A25",
     tree("\u00e4", "d\u00e9/", "d\u00e9/f", "x\udcffy",
          ["l", "l\u00e4", "\u00e4"], ["l", "lx", "t\udcfe"]), None,
     headers=True)
case("a25-long-link-target", "A25",
     tree(["l", "l99", "t" * 99], ["l", "l100", "t" * 100],
          ["l", "l101", "t" * 101], "h" * 101, ["h", "hl", "h" * 101]),
     None, headers=True)
case("a25-mtime-out-of-octal", "A25", tree("f"), None, headers=True,
     mtime_ns=9999999999 * 10 ** 9)
case("a25-mtime-negative", "A25", tree("f"), None, headers=True,
     mtime_ns=-86400 * 10 ** 9)

# ---------------------------------------------------------------- A26 -----
# Permissions, docker run as uid 65534.
NOBODY = 65534
case("a26-unreadable-file-fails", "A26",
     tree(["f", "secret", "", "0000"], "a"), None, user=NOBODY)
case("a26-unreadable-file-excluded-ok", "A26",
     tree(["f", "secret", "s", "0000"], "a"), "secret\n", user=NOBODY)
case("a26-unreadable-dir-excluded-fails", "A26",
     tree(["d", "priv", "0000"], "a"), "priv\n", user=NOBODY)
case("a26-unsearchable-dir-excluded", "A26",
     tree("priv/", "priv/f", ["d", "priv", "0644"], "a"), "priv\n",
     user=NOBODY)
case("a26-unsearchable-dir-not-excluded", "A26",
     tree("priv/", "priv/f", ["d", "priv", "0644"], "a"), None,
     user=NOBODY)
case("a26-reincluded-unreadable-file", "A26",
     tree("dir/", ["f", "dir/keep", "k", "0000"], "dir/z", "b"),
     "dir\n!dir/keep\n", user=NOBODY)
case("a26-unreadable-fifo", "A26",
     tree(["p", "fifo", "0000"], "a"), None, user=NOBODY)

# ---------------------------------------------------------------- R -------
# Realistic trees.
NODE = tree("package.json", "package-lock.json", "index.js", "src/",
            "src/app.js", "src/app.test.js", "node_modules/",
            "node_modules/left-pad/", "node_modules/left-pad/index.js",
            "node_modules/.bin/", ["l", "node_modules/.bin/lp",
                                   "../left-pad/index.js"],
            ".git/", ".git/HEAD", ".git/objects/", ".git/objects/ab",
            "dist/", "dist/bundle.js", "coverage/", "coverage/lcov.info",
            "npm-debug.log", ".env", ".env.example", "README.md",
            "docs/", "docs/guide.md")
PY = tree("setup.py", "pkg/", "pkg/__init__.py", "pkg/__pycache__/",
          "pkg/__pycache__/m.cpython-311.pyc", "pkg/m.py", "pkg/m.pyc",
          "tests/", "tests/test_m.py", "tests/__pycache__/",
          "tests/__pycache__/t.pyc", ".venv/", ".venv/bin/",
          ".venv/bin/python", ".tox/", ".tox/log", "build/",
          "build/lib/", "build/lib/m.py", "dist/", "dist/pkg.whl",
          ".mypy_cache/", ".mypy_cache/x.json", "docs/", "docs/conf.py")
GO = tree("go.mod", "go.sum", "main.go", "cmd/", "cmd/app/",
          "cmd/app/main.go", "internal/", "internal/x.go",
          "internal/x_test.go", "vendor/", "vendor/mod/", "vendor/mod/a.go",
          "bin/", "bin/app", ".git/", ".git/config", "testdata/",
          "testdata/in.txt", "Makefile")
MONO = tree("packages/", "packages/a/", "packages/a/package.json",
            "packages/a/src/", "packages/a/src/i.ts",
            "packages/a/node_modules/", "packages/a/node_modules/x.js",
            "packages/a/build/", "packages/a/build/i.js",
            "packages/b/", "packages/b/package.json",
            "packages/b/build/", "packages/b/build/keep",
            "packages/b/build/o.js", "node_modules/", "node_modules/y.js",
            "build/", "build/keep", "build/top.js", "tools/", "tools/t.sh")
case("r-node-typical", "R", NODE,
     "node_modules\nnpm-debug.log\n.git\ndist\ncoverage\n.env\n")
case("r-node-env-exception", "R", NODE, ".env*\n!.env.example\n")
case("r-node-allowlist", "R", NODE,
     "*\n!package.json\n!package-lock.json\n!src\n!index.js\n")
case("r-node-allowlist-no-tests", "R", NODE,
     "*\n!src\nsrc/**/*.test.js\n!package*.json\n")
case("r-node-md", "R", NODE, "**/*.md\n!README.md\n")
case("r-node-git-star", "R", NODE, ".git*\n")
case("r-node-modules-anywhere", "R", NODE, "**/node_modules\n")
case("r-node-modules-slash", "R", NODE, "node_modules/\n.git/\n")
case("r-node-dot-files", "R", NODE, ".*\n!.env.example\n")
case("r-node-comments", "R", NODE,
     "# deps\nnode_modules\n\n# vcs\n.git\n# logs\n*.log\n")
case("r-py-typical", "R", PY,
     "**/__pycache__\n**/*.pyc\n.venv\n.tox\nbuild\ndist\n.mypy_cache\n")
case("r-py-pyc-only", "R", PY, "**/*.pyc\n")
case("r-py-star-pyc", "R", PY, "*.pyc\n*/*.pyc\n")
case("r-py-keep-build-lib", "R", PY, "build\n!build/lib\n")
case("r-py-docs-only", "R", PY, "*\n!docs\n!setup.py\n")
case("r-go-typical", "R", GO, "vendor\nbin\n.git\n**/*_test.go\n")
case("r-go-testdata-exception", "R", GO, "**/*.txt\n!testdata/*.txt\n")
case("r-go-only-go", "R", GO, "*\n!**/*.go\n!go.*\n")
case("r-go-slash-cmd", "R", GO, "/cmd\n/bin/\n")
case("r-mono-build-keep", "R", MONO, "**/build\n!**/build/keep\n")
case("r-mono-build-keep-literal", "R", MONO,
     "**/build\n!packages/b/build/keep\n")
case("r-mono-node-modules", "R", MONO, "**/node_modules\n")
case("r-mono-packages-star", "R", MONO,
     "packages/*/build\npackages/*/node_modules\n")
case("r-mono-only-packages-src", "R", MONO,
     "*\n!packages/*/src\n!packages/*/package.json\n")
case("r-mono-only-packages-literal", "R", MONO,
     "*\n!packages/a/src\n!packages/b/package.json\n")
case("r-mono-root-build", "R", MONO, "/build\n")
case("r-mono-build-star", "R", MONO, "build/*\n!build/keep\n")
case("r-mono-tools-dot-sh", "R", MONO, "tools/*.sh\n**/*.js\n")
case("r-mono-all-but-tools", "R", MONO, "*\n!tools/\n")
case("r-dotfiles-vcs", "R",
     tree(".git/", ".git/x", ".gitignore", ".github/", ".github/ci.yml",
          ".hg/", ".hg/x", ".svn/", ".svn/x", "a"),
     ".git\n.hg\n.svn\n!.github\n")
case("r-logs-and-tmp", "R",
     tree("app.log", "logs/", "logs/a.log", "logs/keep.log", "tmp/",
          "tmp/.gitkeep", "tmp/x", "src/", "src/x.log"),
     "*.log\nlogs\n!logs/keep.log\ntmp/*\n!tmp/.gitkeep\n")
case("r-secrets", "R",
     tree("id_rsa", "id_rsa.pub", ".ssh/", ".ssh/config", "certs/",
          "certs/server.key", "certs/server.crt", "app.key", "a"),
     "**/*.key\nid_rsa*\n!id_rsa.pub\n.ssh\n")

# ---------------------------------------------------------------- M -------
# Multi-rule interactions.
TM = tree("a/", "a/b/", "a/b/c", "a/b/d", "a/e", "a.txt", "b.txt",
          "c/", "c/a.txt", "c/d/", "c/d/a.txt", "keep", "x/", "x/keep",
          "x/y/", "x/y/keep", "x/y/z")
matrix("m", "M", TM, [
    ("exclude-include-exclude", "a\n!a/b\na/b/c\n"),
    ("include-deep-then-glob", "a\n!a/b/c\n*/b\n"),
    ("star-then-bang-star-txt", "*\n!*.txt\n"),
    ("star-then-bang-starstar-txt", "*\n!**/*.txt\n"),
    ("starstar-txt-bang-c", "**/*.txt\n!c\n"),
    ("starstar-txt-bang-c-slash-star", "**/*.txt\n!c/*\n"),
    ("x-bang-x-y-keep-x-y", "x\n!x/y/keep\nx/y\n"),
    ("x-bang-x-y-x-y-z", "x\n!x/y\nx/y/z\n"),
    ("double-exception", "x\n!x/y\n!x/y\n"),
    ("keep-everywhere", "*\n!keep\n!*/keep\n!*/*/keep\n"),
    ("exclude-then-glob-exception", "x/y\n!x/y/*\nx/y/z\n"),
    ("overlapping-globs", "a/*\n!a/b\na/b/*\n!a/b/d\n"),
    ("bang-first-then-star", "!keep\n*\n"),
    ("dir-and-file-globs", "*/\n!c/\n"),
    ("question-levels", "?\n!a\n?/?\n"),
    ("anchored-vs-deep", "a.txt\n**/a.txt\n!c/a.txt\n"),
    ("exception-re-excluded-by-parent", "c\n!c/d\nc/d\n!c/d/a.txt\n"),
    ("class-and-exception", "[ac]\n![a]/e\n"),
    ("starstar-in-middle", "c/**/a.txt\n!c/d/**\n"),
    ("exception-on-dir-then-files", "x\n!x/y\nx/y/keep\n"),
    ("many-rules", "a\nb.txt\nc\nx\n!x/keep\n!c/a.txt\n!a/e\nkeep\n"),
    ("dockerfile-excluded-with-others", "Dockerfile\n*.txt\n!a.txt\n"),
    ("dockerignore-exception-ignored", "*\n!.dockerignore\n.dockerignore\n"),
    ("same-pattern-twice", "a\na\n!a/e\n!a/e\n"),
    ("trailing-slash-exception", "x/\n!x/y/\n"),
    ("leading-slash-exception", "/x\n!/x/keep\n"),
    ("exception-with-dotslash", "x\n!./x/keep\n"),
    ("lazy-error-inside-reincluded-dir", "*\n!x/keep\n\\e\n"),
    ("lazy-error-only-in-walk", "x\n!x/y/keep\nx/y\n\\e\n"),
])
case("m-lazy-error-in-walk-drops-rest", "M",
     tree("a", "x/", "x/keep", "x/other", "z"), "*\n!x/keep\n\\e\n!z\n!a\n",
     note="the bad pattern is first evaluated inside the walk")
TB = tree("!x", "x", "\\!x", "!!x")
matrix("m", "M", TB, [
    ("double-bang-line", "*\n!!x\n"),
    ("escaped-bang", "\\!x\n"),
    ("bang-space-bang", "*\n! !x\n"),
])


def main():
    names = set()
    for c in CASES:
        if c["name"] in names:
            sys.exit("duplicate case name: %s" % c["name"])
        names.add(c["name"])
        sys.stdout.write(json.dumps(c, ensure_ascii=True) + "\n")


if __name__ == "__main__":
    main()
