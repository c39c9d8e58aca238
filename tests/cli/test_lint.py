#!/usr/bin/env python3
"""End-to-end tests of `ctxpack lint`: every finding code, planted secrets
and decoys, excluded secrets, the builders-differ trees of
DOCKER-SEMANTICS.md section B, text and JSON output, exit statuses.  TAP
output.

usage: test_lint.py PATH_TO_CTXPACK"""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402
check = tap.check

CTXPACK = os.path.abspath(sys.argv[1])

CODES = ["bad-pattern", "control-bytes", "secret-file", "dead-rule", "defensive-rule",
         "overridden-rule", "redundant-rule",
         "builders-differ", "vcs-sent", "dependencies-sent", "cache-sent",
         "build-output-sent", "no-dockerignore", "large-file", "dockerfile-excluded",
         "ignore-outside", "missing-source", "source-partly-excluded", "dockerfile-invalid",
         "dockerfile-unsupported", "backslash-escape", "trailing-comment", "root-only-rule"]
SEVERITY = {"backslash-escape": "warning", "trailing-comment": "warning",
            "root-only-rule": "warning",
            "bad-pattern": "error", "control-bytes": "error", "secret-file": "error",
            "dead-rule": "warning", "defensive-rule": "info", "overridden-rule": "warning",
            "redundant-rule": "info",
            "builders-differ": "warning", "vcs-sent": "warning",
            "dependencies-sent": "warning", "cache-sent": "warning",
            "build-output-sent": "warning", "no-dockerignore": "warning",
            "large-file": "info", "dockerfile-excluded": "info", "ignore-outside": "warning",
            "missing-source": "error", "source-partly-excluded": "warning",
            "dockerfile-invalid": "error", "dockerfile-unsupported": "info"}


def run(args, cwd=None):
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    p = subprocess.run([CTXPACK, "lint"] + args, cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=env, timeout=60)
    return p.returncode, p.stdout.decode("utf-8", "surrogateescape"), p.stderr.decode()


def lint_json(d, *extra):
    """(exit status, parsed document or None, raw stdout)."""
    rc, out, err = run(["--json"] + list(extra) + [d])
    try:
        return rc, json.loads(out), out
    except ValueError:
        return rc, None, out + err


def tree(files, ignore=None):
    """files: {path: bytes}; a Dockerfile is added unless given."""
    files = dict(files)
    files.setdefault("Dockerfile", b"FROM scratch\n")
    return tap.tree(files, ignore, prefix="ctxpack-lint-")


def findings(doc, code=None):
    if not doc:
        return []
    return [f for f in doc["findings"] if code is None or f["code"] == code]


def paths(doc, code):
    return sorted(f["path"] for f in findings(doc, code))


# A context with nothing to say: an ignore file whose rule is used, no
# secrets, no bulky directories, both builders agree.
CLEAN = ({"src/main.c": b"int main(void) { return 0; }\n", "a.tmp": b"t"}, b"*.tmp\n")


def test_help():
    rc, out, err = run(["--help"])
    check("help: exit 0", rc == 0, err)
    missing = [c for c in CODES if c not in out]
    check("help: every code documented", not missing, missing)
    check("help: severities and exit statuses documented",
          all(w in out for w in ("error", "warning", "info", "Exit status")), out)


def test_clean():
    d = tree(*CLEAN)
    rc, out, err = run([d])
    check("clean context: exit 0", rc == 0, (rc, out, err))
    check("clean context: no output", out == "", out)
    rc, doc, raw = lint_json(d)
    check("clean context: JSON has no findings and zero counts",
          doc and doc["findings"] == [] and doc["counts"] == {"error": 0, "warning": 0, "info": 0},
          raw)


def test_exit_and_usage():
    rc, out, err = run(["/nonexistent/ctxpack-lint-dir"])
    check("missing context: exit 2 with a message on stderr", rc == 2 and "ctxpack:" in err,
          (rc, out, err))
    d = tree(*CLEAN)
    rc, out, err = run(["--builder=foo", d])
    check("bad --builder: exit 2", rc == 2, (rc, err))
    rc, out, err = run(["--max-file-size", "lots", d])
    check("bad --max-file-size: exit 2", rc == 2, (rc, err))
    rc, out, err = run([d, d])
    check("two contexts: exit 2", rc == 2, (rc, err))
    d = tree({"x": b"1"}, b"x\nnothere\n")
    rc, out, err = run([d])
    check("warnings only: exit 1", rc == 1, (rc, out, err))
    d = tree({".env": b"A=1\n"}, b"nothing-else-here-either\n")
    rc, out, err = run([d])
    check("an error: exit 3", rc == 3, (rc, out, err))


def test_rules():
    d = tree({"a.log": b"l", "b.txt": b"b", "build/keep": b"k", "build/out": b"o"},
             b"# comment\nnothere\n*.log\n!*.log\nbuild\n!build/keep\nbuild\n")
    rc, doc, raw = lint_json(d)
    dead = [(f["file"], f["line"]) for f in findings(doc, "dead-rule")]
    check("dead-rule: exactly the rule that matches nothing, with file and line",
          dead == [(".dockerignore", 2)], raw)
    over = sorted(f["line"] for f in findings(doc, "overridden-rule"))
    check("overridden-rule: '*.log' overridden by '!*.log', the second 'build' by the first",
          over == [3, 7], raw)
    check("rule findings have no path", all(f["path"] is None for f in findings(doc, "dead-rule")),
          raw)
    rc, out, err = run([d])
    check("dead-rule: compiler-style text line",
          ".dockerignore:2: warning: rule 'nothere' matches nothing [dead-rule]" in out.splitlines(),
          out)
    # Redundancy is reported on the rule that is subsumed: 'node_modules'
    # (line 2) decides under Docker's matcher, but '**/node_modules' (line
    # 3) covers it and more; deleting line 2 changes nothing.
    for files in ({"node_modules/x": b"x", "src/a": b"a"},
                  {"node_modules/x": b"x", "a/node_modules/y": b"y"}):
        d = tree(files, b".git\nnode_modules\n**/node_modules\n")
        for builder in ("buildkit", "classic"):
            rc, doc, raw = lint_json(d, "--builder=" + builder)
            red = findings(doc, "redundant-rule")
            check("redundant-rule (%s, %d paths): line 2 subsumed by line 3, line 3 not overridden"
                  % (builder, len(files)),
                  [f["line"] for f in red] == [2] and "(.dockerignore:3)" in red[0]["message"]
                  and not findings(doc, "overridden-rule") and red[0]["severity"] == "info",
                  raw)
    # A rule of the other kind between them: not redundant (deleting the
    # first 'build' would exclude build/keep).
    d = tree({"build/keep": b"k", "build/out": b"o"}, b"build\n!build/keep\nbuild\n")
    rc, doc, raw = lint_json(d)
    check("redundant-rule: not across an exception that touches the same paths",
          not findings(doc, "redundant-rule"), raw)
    # A rule whose only match is an excluded directory still matches.
    d = tree({"node_modules/x/y.js": b"x"}, b"node_modules\n**/y.js\n")
    rc, doc, raw = lint_json(d)
    check("dead-rule: a rule matching only below a pruned directory is reported (walk-based)",
          [f["line"] for f in findings(doc, "dead-rule")] == [2], raw)


BK_TREE_1 = ({"dir/keep": b"k", "dir/other": b"o", "top": b"t"}, b"dir\n!dir/keep\n")
BK_TREE_2 = ({"src/a.js": b"a", "src/lib/b.js": b"b", "src/lib/c.txt": b"c", "README": b"r"},
             b"*\n!src/**/*.js\n")


def test_builders_differ():
    for builder in ("buildkit", "classic"):
        d = tree(*BK_TREE_1)
        rc, doc, raw = lint_json(d, "--builder=" + builder)
        check("builders-differ (%s): 'dir' + '!dir/keep' differs by the parent 'dir/' only" % builder,
              paths(doc, "builders-differ") == ["dir/"], raw)
        d = tree(*BK_TREE_2)
        rc, doc, raw = lint_json(d, "--builder=" + builder)
        check("builders-differ (%s): '*' + '!src/**/*.js' differs exactly as section B says" % builder,
              paths(doc, "builders-differ") == ["src/", "src/lib/", "src/lib/b.js"],
              raw)
        wild = [f for f in findings(doc, "builders-differ") if f["path"] == "src/lib/b.js"]
        check("builders-differ (%s): the wildcard exception under an excluded directory is named" % builder,
              wild and "wildcard exception '!src/**/*.js' (.dockerignore:2)" in wild[0]["message"]
              and "classic builder does not enter" in wild[0]["message"], raw)
        check("builders-differ (%s): exit 1 (warnings)" % builder, rc == 1, rc)
    d = tree({"build/keep": b"k", "build/x": b"x"}, b"build\n!build/keep\nbuild\n")
    # Both builders send build/keep here (per-pattern parent results) but
    # BuildKit adds the parent directory.
    rc, doc, raw = lint_json(d)
    check("builders-differ: 'build', '!build/keep', 'build' differs by 'build/' only",
          paths(doc, "builders-differ") == ["build/"], raw)


def test_dead_agrees_with_stats():
    """stats --fail-on-dead-rules fails on exactly the rules lint calls
    dead, overridden or redundant, and names them."""
    d = tree({"src/a": b"a", "node_modules/x": b"x"},
             b"Dockerfile\n.dockerignore\nnode_modules\n**/node_modules\n.idea\n")
    for builder in ("buildkit", "classic"):
        rc, doc, raw = lint_json(d, "--builder=" + builder)
        warned = sorted(f["line"] for f in findings(doc)
                        if f["code"] in ("dead-rule", "overridden-rule", "redundant-rule"))
        p = subprocess.run([CTXPACK, "stats", "--builder=" + builder, "--fail-on-dead-rules", d],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        err = p.stderr.decode()
        named = sorted(int(l.split(":")[1]) for l in err.splitlines()
                       if l.startswith("  .dockerignore:"))
        check("dead rules (%s): stats fails (4) on exactly lint's, naming them" % builder,
              warned == [3] and p.returncode == 4 and named == warned
              and "'node_modules' is redundant (.dockerignore:4 covers it)" in err, (raw, err))
        p = subprocess.run([CTXPACK, "stats", "--json", "--builder=" + builder, d],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        rules = {r["line"]: r for r in json.loads(p.stdout)["rules"]}
        check("dead rules (%s): stats JSON (the HTML page's data) marks line 3 redundant, "
              "line 4 and the Dockerfile/.dockerignore lines not dead" % builder,
              rules[3]["dead"] and rules[3]["use"] == "redundant" and not rules[4]["dead"]
              and not rules[1]["dead"] and not rules[2]["dead"] and not rules[5]["dead"]
              and rules[5]["use"] == "defensive", rules)
    d = tree({"src/a": b"a"}, b"Dockerfile\n.dockerignore\n")
    p = subprocess.run([CTXPACK, "stats", "--builder=classic", "--fail-on-dead-rules", d],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    check("dead rules: 'Dockerfile' and '.dockerignore' lines do not break the budget",
          p.returncode == 0, p.stderr)


def test_disable_and_severity():
    d = tree({".env": b"A=1\n", "src/a": b"a"}, b"nothere\n")
    rc, doc, raw = lint_json(d)
    check("disable/severity: the tree has a secret and a dead rule, exit 3",
          rc == 3 and findings(doc, "secret-file") and findings(doc, "dead-rule"), raw)
    rc, doc, raw = lint_json(d, "--disable", "secret-file")
    check("--disable secret-file: no secret-file finding, exit 1 (the dead rule)",
          rc == 1 and not findings(doc, "secret-file") and findings(doc, "dead-rule")
          and doc["counts"]["error"] == 0, raw)
    rc, doc, raw = lint_json(d, "--disable", "secret-file", "--disable", "dead-rule")
    check("--disable twice: both gone, exit 0", rc == 0 and not findings(doc, "dead-rule"), raw)
    rc, doc, raw = lint_json(d, "--severity", "secret-file=warning", "--severity", "dead-rule=info")
    check("--severity: levels replaced, counts and exit follow",
          rc == 1 and findings(doc, "secret-file")[0]["severity"] == "warning"
          and findings(doc, "dead-rule")[0]["severity"] == "info"
          and doc["counts"] == {"error": 0, "warning": 1, "info": 1}, raw)
    rc, doc, raw = lint_json(d, "--severity", "dead-rule=error", "--disable", "secret-file")
    check("--severity dead-rule=error: exit 3", rc == 3, raw)
    for bad in (["--disable", "nope"], ["--severity", "dead-rule"], ["--severity", "dead-rule=loud"],
                ["--severity", "nope=info"]):
        rc, out, err = run(bad + [d])
        check("usage error for %s: exit 2, message" % " ".join(bad),
              rc == 2 and bad[0] in err, (rc, err))
    rc, out, err = run(["--help"])
    check("--help lists every id with its default severity and the options",
          all(re.search(r"^  %s +%s\b" % (re.escape(c), SEVERITY[c]), out, re.M) or
              re.search(r"^  %s %s\b" % (re.escape(c), SEVERITY[c]), out, re.M) for c in CODES)
          and "--disable" in out and "--severity" in out, out)
    doc_md = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs",
                               "lint.md")).read()
    check("docs/lint.md lists every id with its default severity",
          all(re.search(r"^\| `%s` \| %s\b" % (re.escape(c), SEVERITY[c]), doc_md, re.M)
              for c in CODES), [c for c in CODES if "`%s`" % c not in doc_md])


def test_builders_differ_limit():
    files = {"src/lib/f%02d.js" % i: b"x" for i in range(25)}
    d = tree(files, b"*\n!src/**/*.js\n")
    rc, out, err = run([d])
    lines = [l for l in out.splitlines() if l.endswith("[builders-differ]")]
    check("builders-differ text: 20 findings then '... and N more'",
          len(lines) == 21 and lines[-1] == "... and 7 more [builders-differ]", out)
    rc, doc, raw = lint_json(d)
    check("builders-differ JSON: all 27 paths", len(paths(doc, "builders-differ")) == 27, raw)


def test_noise():
    # A .dockerignore template's defensive lines that match nothing here
    # are info (defensive-rule), not warnings; a typo is still dead.
    lines = [".idea", ".DS_Store", "dist", "node_modules", "*.log", ".git", ".env", "coverage",
             "__pycache__", "*.pyc", ".vscode", "Dockerfile*", ".dockerignore", "npm-debug.log",
             "build", "tmp", ".cache", "**/node_modules/", "/dist/**"]
    d = tree({"src/app.js": b"a"}, ("\n".join(lines) + "\nsrcc\n").encode())
    for builder in ("buildkit", "classic"):
        rc, doc, raw = lint_json(d, "--builder=" + builder)
        dfn = findings(doc, "defensive-rule")
        dead = findings(doc, "dead-rule")
        # Dockerfile* and .dockerignore match (the Dockerfile, the ignore
        # file): never dead.
        want = [i + 1 for i, p in enumerate(lines) if p not in ("Dockerfile*", ".dockerignore")]
        check("defensive-rule (%s): template lines matching nothing are info" % builder,
              sorted(f["line"] for f in dfn) == want and all(f["severity"] == "info" for f in dfn),
              raw)
        check("defensive-rule (%s): a typo is still a dead-rule warning" % builder,
              [f["line"] for f in dead] == [len(lines) + 1], raw)
        # The classic daemon removes an excluded .dockerignore (and
        # Dockerfile) before the build, as BuildKit never sends them.
        check("noise (%s): '.dockerignore' in .dockerignore is no builders-differ" % builder,
              not findings(doc, "builders-differ"), raw)
    # Where the outcome differs it is still reported: BuildKit reads
    # Dockerfile.dockerignore (which excludes .dockerignore), the classic
    # builder .dockerignore (which keeps it, so its build sees it).
    d = tree({"src/app.js": b"a", "Dockerfile.dockerignore": b".dockerignore\n"}, b"*.tmp\n")
    rc, doc, raw = lint_json(d)
    check("noise: .dockerignore kept by the classic rules only is builders-differ",
          ".dockerignore" in paths(doc, "builders-differ"), raw)
    # Yarn: releases/ and plugins/ are committed and needed; cache/ and
    # unplugged/ are a cache.
    d = tree({".yarn/releases/yarn-4.1.0.cjs": b"y", ".yarn/plugins/p.cjs": b"p",
              ".yarn/cache/a.zip": b"z", ".yarn/unplugged/x/y": b"u", "src/a.js": b"a"},
             b"*.tmp\n")
    rc, doc, raw = lint_json(d)
    check("noise: .yarn/releases and .yarn/plugins are no cache-sent; cache and unplugged are",
          sorted(paths(doc, "cache-sent")) == [".yarn/cache/", ".yarn/unplugged/"], raw)


SECRETS = {
    ".env": b"DB_PASSWORD=hunter2\n",
    "config/.env.production": b"X=1\n",
    "certs/server.pem": b"-----BEGIN CERTIFICATE-----\nMIIB\n",
    "certs/tls.key": b"k",
    "home/id_rsa": b"k",
    "home/id_ed25519_deploy": b"k",
    ".git-credentials": b"https://u:p@example.com\n",
    ".netrc": b"machine example.com login u password p\n",
    ".aws/credentials": b"[default]\n",
    ".docker/config.json": b'{"auths": {"registry.example.com": {"auth": "dTpw"}}}\n',
    "deploy/kubeconfig": b"apiVersion: v1\n",
    ".kube/config": b"apiVersion: v1\n",
    "certs/client.p12": b"\x30\x82",
    "certs/app.pfx": b"\x30\x82",
    "gcp/credentials.json": b'{\n  "type": "service_account",\n  "project_id": "p"\n}\n',
    "infra/terraform.tfstate": b"{}\n",
    "web/.npmrc": b"//registry.npmjs.org/:_authToken=npm_abcdefghijklmnopqrstuvwxyz0123456789\n",
    ".pypirc": b"[pypi]\nusername = __token__\npassword = pypi-AgEIcHlwaS5vcmc\n",
    "notes/key.txt": b"x\n-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n",
    "src/settings.py": b"AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'\n",
    "src/gh.py": b"TOKEN = 'ghp_0123456789abcdefghijABCDEFGHIJ012345'\n",
    "src/pat.txt": b"github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz\n",
    "src/slack.cfg": b"hook: xoxb-123456789012-abcdefABCDEF\n",
    "src/sa.json": b'{"private_key": "-----BEGIN PRIVATE KEY-----\\nMII", "x": 1}\n',
    # An indented block (YAML) and OpenSSL's legacy encrypted headers.
    "deploy/values.yaml": b"tls:\n  key: |\n    -----BEGIN EC PRIVATE KEY-----\n    MHcCAQEE\n"
                          b"    -----END EC PRIVATE KEY-----\n",
    "old/enc.txt": b"-----BEGIN RSA PRIVATE KEY-----\r\nProc-Type: 4,ENCRYPTED\r\n"
                   b"DEK-Info: AES-128-CBC,0A1B\r\n\r\nMIIEow+/=\r\n-----END RSA PRIVATE KEY-----\r\n",
    # Google's OAuth client file (installed and web shapes).
    "oauth/web/credentials.json": b'{"web": {"client_id": "1234.apps.googleusercontent.com",\n'
                                  b'  "client_secret": "GOCSPX-abcDEF123ghiJKL456mno"}}\n',
    "desktop/credentials.json": b'{"installed":{"client_id":"9.apps.googleusercontent.com",'
                                b'"client_secret":"GOCSPX-Zq81LmN0pQr5StUv7WxY"}}\n',
    "src/billing.py": b"stripe.api_key = 'sk_live_51HqLyjWDarjtT1zdp7dcXyZaBcD'\n",
    "src/restricted.js": b"const k = `rk_live_51Jd8aKq2Lm3Np4Qr5St6Uv7Wx`;\n",
    ".pgpass": b"db.internal:5432:app:app:hunter2\n",
    "web/.htpasswd": b"admin:$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/\n",
    "infra/terraform.tfvars": b'region      = "eu-west-1"\ndb_password = "S3cr3t-pass"\n',
    ".vault-token": b"hvs.CAESIJlU9JMYEhOPYv4igdhm9PnK\n",
    # A key after the first 64 KiB (lint scans the first 4 MiB).
    "big/notes.txt": b"filler line\n" * 10000 + b"-----BEGIN OPENSSH PRIVATE KEY-----\n"
                     b"b3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
    "src/aws.py": b'AWS_ACCESS_KEY_ID = "AKIAQ3EGRZ7TWLMKFH2N"\n',
    "ci/gitlab.yml": b"variables:\n  TOKEN: glpat-Abc123Def456Ghi789Jk\n",
    "src/slack_user.py": b"client = WebClient(token='xoxp-2468013579-1357924680-Zk3mQ9rT2vX8')\n",
    "src/notify.sh": b"curl -X POST https://hooks.slack.com/services/T0ABCDEF1/B0ABCDEF2/Zk3mQ9rT2vX8yL1pN4sW7eHc\n",
    "scripts/publish.sh": b"export NPM_TOKEN=npm_QOwl0RO7s3C5gNfVo8B2xTqR1Lm4Kd9Za6Hp\n",
    "src/maps.js": b'const key = "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY";\n',
    "config/app.yml": b"jwt_secret: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
                      b"dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U\n",
}
DECOYS = {
    ".env.example": b"DB_PASSWORD=\n",
    ".env.sample": b"DB_PASSWORD=\n",
    ".env.template": b"DB_PASSWORD=\n",
    "home/id_rsa.pub": b"ssh-rsa AAAA\n",
    "home/id_ed25519.pub": b"ssh-ed25519 AAAA\n",
    "app/.npmrc": b"//registry.npmjs.org/:_authToken=${NPM_TOKEN}\nsave-exact=true\n",
    "other/.npmrc": b"registry=https://registry.npmjs.org/\n",
    "oauth/credentials.json": b'{"installed": {"client_id": "x"}}\n',
    ".docker/daemon.json": b'{"auths": {}}\n',
    "src/boto.py": b"s3 = boto3.client('s3', aws_secret_access_key=os.environ['K'])\n",
    "src/words.txt": b"ghp_short and xoxb- and -----BEGIN PUBLIC KEY-----\n",
    "docs/env.md": b"copy .env.example to .env\n",
    # A BEGIN line in a quoted attribute, one without a base64 body and
    # END line, and mismatched labels are not keys.
    "web/Login.vue": b'<textarea placeholder="-----BEGIN PRIVATE KEY-----"></textarea>\n',
    "docs/keys.md": b"The key starts with\n-----BEGIN PRIVATE KEY-----\nand ends with the END line.\n",
    "docs/mixed.txt": b"-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END EC PRIVATE KEY-----\n",
    # Placeholders and documentation of the token shapes.
    "src/stripe_example.py": b"stripe.api_key = 'sk_live_xxx'\n",
    "src/stripe_tmpl.js": b"const key = 'sk_live_xxxxxxxxxxxxxxxxxxxxxxxx';\n",
    "README.md": b"Set STRIPE_KEY=sk_live_<your-key> and AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n",
    "docs/aws.md": b"[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n",
    "docs/tokens.md": b"GitHub tokens start with ghp_, GitLab ones with glpat-, npm ones with npm_,\n"
                      b"Slack ones with xoxb- and Google API keys with AIza.\n",
    "docs/slack.md": b"https://hooks.slack.com/services/XXXXXXXXX/XXXXXXXXX/XXXXXXXXXXXXXXXXXXXXXXXX\n",
    "test/test_jwt.py": b"assert decode('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
                        b"dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U') is not None\n",
    "infra/prod.tfvars": b'region = "eu-west-1"\ndb_password = var.db\napi_token = ""\n',
    "oauth/empty/credentials.json": b'{"web": {"client_id": "x", "client_secret": ""}}\n',
}


def test_secrets():
    files = dict(SECRETS)
    files.update(DECOYS)
    files["private/id_rsa"] = b"k"           # excluded
    files["private/.env"] = b"A=1\n"
    files["excluded.pem"] = b"p"
    d = tree(files, b"private\nexcluded.pem\n")
    for builder in ("buildkit", "classic"):
        rc, doc, raw = lint_json(d, "--builder=" + builder)
        got = set(paths(doc, "secret-file"))
        want = set(SECRETS)
        check("secrets (%s): all %d planted secrets are reported" % (builder, len(want)),
              want <= got, sorted(want - got))
        check("secrets (%s): no decoy is reported" % builder, not (got & set(DECOYS)),
              sorted(got & set(DECOYS)))
        check("secrets (%s): excluded secrets are not reported" % builder,
              not (got & {"private/id_rsa", "private/.env", "excluded.pem"}), sorted(got))
        check("secrets (%s): nothing else is reported" % builder, got == want, sorted(got ^ want))
        # The corpus's numbers, quoted in docs/lint.md.
        tp = len(got & want)
        precision = tp / len(got) if got else 1.0
        recall = tp / len(want)
        print("# secrets corpus (%s): %d planted, %d decoys: precision %.3f, recall %.3f"
              % (builder, len(want), len(DECOYS), precision, recall))
        check("secrets (%s): precision and recall >= 0.95" % builder,
              precision >= 0.95 and recall >= 0.95, (precision, recall))
        check("secrets (%s): severity error, exit 3" % builder,
              rc == 3 and all(f["severity"] == "error" for f in findings(doc, "secret-file")), rc)
    # A symlink to a secret is sent as a link: never followed, never read.
    d = tree({"real/.hidden": b"ghp_0123456789abcdefghijABCDEFGHIJ012345\n"}, b"real\n")
    os.symlink("real/.hidden", os.path.join(d, "link.txt"))
    rc, doc, raw = lint_json(d)
    check("secrets: a symlink to a secret is not followed", paths(doc, "secret-file") == [], raw)
    # Content signatures are looked for in the first 4 MiB of every file.
    tok = b"ghp_0123456789abcdefghijABCDEFGHIJ012345\n"
    d = tree({"huge.txt": b"x\n" * (2 * 1024 * 1024) + tok,
              "big.txt": b"x" * (70 * 1024) + b"\n" + tok,
              "edge.txt": b"x" * (4 * 1024 * 1024 - len(tok) - 1) + b"\n" + tok,
              "small.txt": tok}, b"*.tmp\n")
    rc, doc, raw = lint_json(d)
    check("secrets: content is scanned in the first 4 MiB of a file",
          sorted(paths(doc, "secret-file")) == ["big.txt", "edge.txt", "small.txt"], raw)


def test_dirs():
    d = tree({".git/HEAD": b"ref\n", ".git/objects/ab": b"12345",
              "node_modules/a/index.js": b"x" * 100, "node_modules/a/node_modules/b/i.js": b"y" * 50,
              "app/__pycache__/m.pyc": b"c", "dist/app.js": b"d", "src/x.c": b"s",
              "vendor2/x": b"v"}, b"*.tmp\n")
    rc, doc, raw = lint_json(d)
    got = {f["code"]: f["path"] for f in findings(doc) if f["code"].endswith("-sent")}
    check("directory codes: vcs, dependencies, cache and build output",
          got == {"vcs-sent": ".git/", "dependencies-sent": "node_modules/",
                  "cache-sent": "app/__pycache__/", "build-output-sent": "dist/"}, raw)
    dep = findings(doc, "dependencies-sent")
    check("dependencies-sent: only the top-most directory, with its files and bytes",
          len(dep) == 1 and "2 files, 150 bytes" in dep[0]["message"], raw)
    check("vcs-sent: counts the files below it",
          any("2 files, 9 bytes" in f["message"] for f in findings(doc, "vcs-sent")), raw)
    d = tree({".git/HEAD": b"ref\n", "node_modules/a.js": b"a", "src/x.c": b"s"},
             b".git\nnode_modules\n")
    rc, doc, raw = lint_json(d)
    check("directory codes: excluded directories are not reported",
          not [f for f in findings(doc) if f["code"].endswith("-sent")], raw)


def test_large_and_ignore_file():
    files, ignore = CLEAN
    files = dict(files, **{"blob.bin": b"z" * 300, "small.bin": b"z" * 100})
    d = tree(files, ignore)
    rc, doc, raw = lint_json(d, "--max-file-size", "200")
    check("large-file: only the file over --max-file-size", paths(doc, "large-file") == ["blob.bin"],
          raw)
    check("large-file: severity info, exit 0", rc == 0 and
          all(f["severity"] == "info" for f in findings(doc, "large-file")), rc)
    rc, doc, raw = lint_json(d)
    check("large-file: none under the 50 MiB default", paths(doc, "large-file") == [], raw)
    d = tree({"src/x.c": b"s"})
    rc, doc, raw = lint_json(d)
    nd = findings(doc, "no-dockerignore")
    check("no-dockerignore: reported, warning, exit 1",
          len(nd) == 1 and nd[0]["severity"] == "warning" and rc == 1, raw)
    d = tree(*CLEAN)
    rc, doc, raw = lint_json(d)
    check("no-dockerignore: not reported when there is one", not findings(doc, "no-dockerignore"),
          raw)


def test_control_bytes():
    d = tree({"foo": b"f"}, b"foo\x01\nbar\x1f\nfoo\n")
    rc, doc, raw = lint_json(d)
    cb = findings(doc, "control-bytes")
    check("control-bytes (buildkit): errors on lines 1 and 2, exit 3",
          [f["line"] for f in cb] == [1, 2] and all(f["severity"] == "error" for f in cb)
          and rc == 3, raw)
    rc, out, err = run([d])
    check("control-bytes: the byte is escaped in text output",
          "'foo\\x01'" in out and "\x01" not in out, out)
    rc, doc, raw = lint_json(d, "--builder=classic")
    cb = findings(doc, "control-bytes")
    check("control-bytes (classic): warnings, exit 1",
          [f["line"] for f in cb] == [1, 2] and all(f["severity"] == "warning" for f in cb)
          and rc == 1, raw)
    d = tree({"foo": b"f"}, b"foo\x01\nb\xc3\xa4r\nfoo\n")
    rc, doc, raw = lint_json(d)
    check("control-bytes: not reported when some pattern is non-ASCII",
          not findings(doc, "control-bytes"), raw)


def test_bad_pattern():
    for pat, what in ((b"a[", "up front"), (b"[z-a]", "lazily, evaluated"), (b"!", "lone '!'")):
        d = tree({"x": b"1"}, b"x\n" + pat + b"\n")
        rc, doc, raw = lint_json(d)
        bp = findings(doc, "bad-pattern")
        check("bad-pattern (%s): error at .dockerignore:2, exit 3" % what,
              len(bp) == 1 and bp[0]["file"] == ".dockerignore" and bp[0]["line"] == 2
              and bp[0]["severity"] == "error" and rc == 3, raw)
    d = tree({"x": b"1"}, b"x\n" + b"y" * (70 * 1024) + b"\n")
    rc, doc, raw = lint_json(d)
    bp = findings(doc, "bad-pattern")
    check("bad-pattern: a line over 64 KiB is reported at its line",
          len(bp) == 1 and bp[0]["line"] == 2 and rc == 3, raw)


def test_dockerfile_excluded():
    d = tree({"src/x.c": b"s"}, b"Dockerfile\n")
    for builder in ("buildkit", "classic"):
        rc, doc, raw = lint_json(d, "--builder=" + builder)
        de = findings(doc, "dockerfile-excluded")
        check("dockerfile-excluded (%s): info naming both builders, exit 0" % builder,
              len(de) == 1 and de[0]["path"] == "Dockerfile" and de[0]["severity"] == "info"
              and "BuildKit" in de[0]["message"] and "classic builder re-adds" in de[0]["message"]
              and rc == 0, raw)
    d = tree(*CLEAN)
    rc, doc, raw = lint_json(d)
    check("dockerfile-excluded: not reported when it is not excluded",
          not findings(doc, "dockerfile-excluded"), raw)


def test_json_shape():
    d = tree({".env": b"A=1\n", "x.log": b"l", "big": b"b" * 10}, b"nothere\n")
    rc, doc, raw = lint_json(d, "--max-file-size", "5")
    ok = doc is not None and doc.get("version") == 1
    check("JSON: parses, version 1", ok, raw)
    if not ok:
        return
    counts = {"error": 0, "warning": 0, "info": 0}
    for f in doc["findings"]:
        counts[f["severity"]] += 1
    check("JSON: counts match the findings", doc["counts"] == counts and counts["error"] >= 1
          and counts["warning"] >= 1 and counts["info"] >= 1, doc)
    keys = all(set(f) == {"code", "severity", "file", "line", "path", "message"}
               for f in doc["findings"])
    check("JSON: every finding has code, severity, file, line, path, message", keys, doc)
    check("JSON: each code has its documented severity",
          all(SEVERITY[f["code"]] == f["severity"] for f in doc["findings"]), doc)
    rc2, out, err = run([d, "--max-file-size", "5"])
    check("text and JSON agree on the number of findings",
          len(out.splitlines()) == len(doc["findings"]) and rc2 == rc, (out, doc))


def outside_ignore_tree():
    """A .dockerignore that is a symlink to a file outside the context."""
    d = tree({"x": b"x"})
    target = os.path.join(tap.mkdtemp("ctxpack-lint-"), "ignore")
    with open(target, "wb") as f:
        f.write(b"x\n")
    os.symlink(target, os.path.join(d, ".dockerignore"))
    return d


def test_real_tree_noise():
    """What a maintainer would dismiss is info, not a warning (exit 0)."""
    # examples/webapp's shape: BuildKit's parent of a re-included file,
    # a *.log rule leaving logs out of a copied directory.
    d = tree({"docs/a.md": b"a", "docs/help.md": b"h", "src/index.js": b"i",
              "src/debug.log": b"d", "Dockerfile": b"FROM scratch\nCOPY src ./src\n"},
             b"**/*.log\ndocs\n!docs/help.md\n")
    rc, doc, raw = lint_json(d)
    bd = findings(doc, "builders-differ")
    check("builders-differ: BuildKit's parent directory of re-included entries is info",
          [(f["path"], f["severity"]) for f in bd] == [("docs/", "info")]
          and "daemon creates the directory" in bd[0]["message"] and rc == 0, raw)
    webapp = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples",
                          "webapp")
    rc, out, err = run([webapp])
    check("examples/webapp: exit 0, only info findings",
          rc == 0 and out and all(": info: " in l for l in out.splitlines()), (rc, out, err))
    # A type rule that matches nothing (*.tar.gz) is defensive.
    d = tree({"x": b"x", "backups/a.tar.gz": b"a"}, b"backups\n*.tar.gz\n*.egg-info\n")
    rc, doc, raw = lint_json(d)
    check("defensive-rule: a dead '*.EXT' rule is info",
          sorted(f["line"] for f in findings(doc, "defensive-rule")) == [2, 3]
          and not findings(doc, "dead-rule") and rc == 0, raw)
    # A dead rule whose directory exists names an output not made yet;
    # one whose directory does not exist is still dead.
    d = tree({"packages/a/src/x.js": b"x", "packages/b/src/y.js": b"y"},
             b"packages/*/lib\nnowhere/lib\n")
    rc, doc, raw = lint_json(d)
    dfn = findings(doc, "defensive-rule")
    check("defensive-rule: a dead rule whose directory part exists is info; dead-rule otherwise",
          [f["line"] for f in dfn] == [1] and "its directory exists" in dfn[0]["message"]
          and [f["line"] for f in findings(doc, "dead-rule")] == [2] and rc == 1, raw)
    # An exclusion an earlier exclusion shadows: info; a defensive one
    # (*.pyc after __pycache__) is defensive-rule.
    d = tree({"a/__pycache__/m.pyc": b"p", "CHANGELOG.md": b"c", "x.py": b"x"},
             b"**/__pycache__\n**/*.pyc\n*.md\nCHANGELOG*\n")
    rc, doc, raw = lint_json(d)
    ov = findings(doc, "overridden-rule")
    check("overridden-rule: an exclusion shadowed by an earlier one is info",
          [(f["line"], f["severity"]) for f in ov] == [(4, "info")] and rc == 0, raw)
    check("defensive-rule: a defensive rule shadowed by an earlier exclusion",
          [f["line"] for f in findings(doc, "defensive-rule")] == [2], raw)
    # An exclusion an exception overrides is still a warning.
    d = tree({"a.log": b"l"}, b"*.log\n!*.log\n")
    rc, doc, raw = lint_json(d)
    check("overridden-rule: an exclusion an exception takes back stays a warning",
          [(f["line"], f["severity"]) for f in findings(doc, "overridden-rule")]
          == [(1, "warning")], raw)
    # Redundancy holds for the patterns, not only this tree: '*.log' is not
    # redundant with 'npm-debug.log*' although the only log is npm-debug.log.
    d = tree({"npm-debug.log": b"l", "x": b"x"}, b"*.log\nnpm-debug.log*\n")
    rc, doc, raw = lint_json(d)
    check("redundant-rule: a broader rule is not redundant with a narrower later one",
          not findings(doc, "redundant-rule"), raw)
    # vendor/ is dependencies only when a package manager installed it.
    d = tree({"vendor/pkg/a.py": b"a", "x": b"x"}, b".git\n")
    rc, doc, raw = lint_json(d)
    check("dependencies-sent: a vendor/ of committed sources is not reported",
          not findings(doc, "dependencies-sent") and rc == 0, raw)
    d = tree({"vendor/autoload.php": b"<?php", "vendor/x/y.php": b"y"}, b".git\n")
    rc, doc, raw = lint_json(d)
    check("dependencies-sent: Composer's vendor/ is reported",
          paths(doc, "dependencies-sent") == ["vendor/"], raw)


SARIF_SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sarif-schema-2.1.0.json")


def test_formats():
    d = tree({"src/a.c": b"a", ".env": b"A=1\n", "we,ird:name%": b"x",
              "Dockerfile": b"FROM scratch\nCOPY nope /\n"}, b"# c\nnothere\n")
    rc_text, out, err = run([d])
    rc, sarif_raw, err = run(["--format=sarif", d])
    check("--format=sarif: the exit status is text mode's", rc == rc_text == 3, (rc, rc_text, err))
    try:
        sarif = json.loads(sarif_raw)
    except ValueError:
        sarif = None
    check("--format=sarif: one JSON document", sarif is not None, sarif_raw)
    if sarif is None:
        return
    run0 = sarif["runs"][0]
    rules = run0["tool"]["driver"]["rules"]
    check("sarif: tool.driver.rules lists every check id with its default level and help",
          [r["id"] for r in rules] == sorted(CODES, key=[r["id"] for r in rules].index)
          and sorted(r["id"] for r in rules) == sorted(CODES)
          and all(r["defaultConfiguration"]["level"] ==
                  {"error": "error", "warning": "warning", "info": "note"}[SEVERITY[r["id"]]]
                  and r["help"]["text"] for r in rules), rules)
    res = {(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"].get("region", {}).get("startLine"), r["level"])
           for r in run0["results"]}
    check("sarif: results at the .dockerignore line, the Dockerfile line and the path",
          ("dead-rule", ".dockerignore", 2, "warning") in res
          and ("missing-source", "Dockerfile", 2, "error") in res
          and ("secret-file", ".env", None, "error") in res, res)
    check("sarif: ruleIndex points at the rule",
          all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in run0["results"]), run0["results"])
    try:
        import jsonschema
    except ImportError:
        tap.skip("sarif: valid against the SARIF 2.1.0 schema",
                 "python3-jsonschema is not installed (scripts/install-deps.sh installs it)")
    else:
        schema = json.load(open(SARIF_SCHEMA))
        errors = [e.message for e in jsonschema.Draft4Validator(schema).iter_errors(sarif)]
        check("sarif: valid against the SARIF 2.1.0 schema", not errors, errors[:5])
        bad = json.loads(sarif_raw)
        bad["runs"][0]["results"][0]["level"] = "loud"
        check("sarif: the schema check can fail (a bad level is refused)",
              list(jsonschema.Draft4Validator(schema).iter_errors(bad)), "")
    # GitHub workflow commands, escaped as @actions/core does.
    rc, out, err = run(["--format=github"], cwd=d)
    lines = out.splitlines()
    check("--format=github: one annotation a finding, same exit status",
          rc == 3 and len(lines) == len(run0["results"])
          and all(re.match(r"^::(error|warning|notice) file=[^:,]+(,line=\d+)?,title=[a-z-]+::",
                           l) for l in lines), out)
    check("github: the dead rule at its line, titled by its id",
          "::warning file=.dockerignore,line=2,title=dead-rule::rule 'nothere' matches nothing"
          in lines, out)
    # A file name with ',' ':' '%' (a secret by its content) is escaped
    # in the property; the message's '%' too.
    d2 = tree({"we,ird:na%me": b"aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzzzzz1234\n",
               "Dockerfile": b"FROM scratch\n"}, b"# c\n")
    rc, out, err = run(["--format=github"], cwd=d2)
    check("github: ',' ':' '%' escaped in the file property",
          "::error file=we%2Cird%3Ana%25me,title=secret-file::" in out, out)
    rc, out, err = run(["--format=github", d2 + "/"])
    check("github: the context directory (as given) is put before context paths",
          "::error file=%s/we%%2Cird%%3Ana%%25me,title=secret-file::" % d2 in out, out)
    d3 = tree({"x": b"x"}, b"50%,a:b\n")
    rc, out, err = run(["--format=github"], cwd=d3)
    check("github: '%' in the message escaped, ',' and ':' not",
          "title=dead-rule::rule '50%25,a:b' matches nothing" in out, out)
    rc, out, err = run(["--format=xml", d])
    check("--format=xml: usage error", rc == 2 and "--format" in err, (rc, err))


def ls_names(d):
    p = subprocess.run([CTXPACK, "ls", d], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout


def test_suppress_and_config():
    files = {"x": b"x", "nothere2x": b"y"}
    plain = b"nothere\n\nalso-not\nthird\n"
    sup = (b"# ctxpack:ignore dead-rule\nnothere\n\n# ctxpack:ignore  overridden-rule, dead-rule\n"
           b"#other comment\n\nalso-not\nthird\n")
    d = tree(files, sup)
    rc, doc, raw = lint_json(d)
    check("# ctxpack:ignore: the next rule line's finding of that id is dropped, not others",
          [f["line"] for f in findings(doc, "dead-rule")] == [8] and rc == 1, raw)
    # The builders read the file the same: the comment lines are comments.
    d0 = tree(files, plain)
    check("# ctxpack:ignore lines change nothing the builders send (ls, both builders)",
          ls_names(d) == ls_names(d0) and ls_names(d)[0] == 0, (ls_names(d), ls_names(d0)))
    for b in ("buildkit", "classic"):
        p1 = subprocess.run([CTXPACK, "check-ignore", "--builder=" + b, "-v", "-C", d, "nothere",
                             "also-not", "third"], stdout=subprocess.PIPE)
        check("check-ignore (%s): the rules keep their lines (2, 7, 8)" % b,
              [l.split(b"\t")[0] for l in p1.stdout.splitlines()]
              == [b".dockerignore:2:nothere", b".dockerignore:7:also-not", b".dockerignore:8:third"],
              p1.stdout)
    # Only a '#' in the first column is a comment to Docker: ' # ...' is a
    # pattern, and suppresses nothing.
    d = tree(files, b" # ctxpack:ignore dead-rule\nnothere\n")
    rc, doc, raw = lint_json(d)
    check("' # ctxpack:ignore' (not in the first column) is a pattern, not a suppression",
          sorted(f["line"] for f in findings(doc, "dead-rule")) == [1, 2], raw)
    for body, want in ((b"# ctxpack:ignore dead-rul\nx\n", ".dockerignore:1: unknown check id 'dead-rul'"),
                       (b"x\n# ctxpack:ignore dead-rule\n", ".dockerignore:2: '# ctxpack:ignore' is followed by no rule line"),
                       (b"# ctxpack:ignore\nx\n", ".dockerignore:1: '# ctxpack:ignore' names no check id")):
        rc, out, err = run([tree(files, body)])
        check("# ctxpack:ignore error: %s" % want, rc == 2 and want in err, (rc, err))
    # The config file.
    d = tree(dict(files, **{".ctxpack.conf": b"# team settings\n\ndisable dead-rule\n"}), plain)
    rc, doc, raw = lint_json(d)
    check(".ctxpack.conf: disable dead-rule, exit 0", rc == 0 and not findings(doc, "dead-rule"), raw)
    rc, doc, raw = lint_json(d, "--severity", "dead-rule=error")
    check(".ctxpack.conf: --severity on the command line wins over the config's disable",
          rc == 3 and findings(doc, "dead-rule"), raw)
    d = tree(dict(files, **{".ctxpack.conf": b"severity dead-rule info\n"}), plain)
    rc, doc, raw = lint_json(d)
    check(".ctxpack.conf: severity dead-rule info, exit 0",
          rc == 0 and {f["severity"] for f in findings(doc, "dead-rule")} == {"info"}, raw)
    rc, doc, raw = lint_json(d, "--severity", "dead-rule=warning")
    check(".ctxpack.conf: the command line's --severity wins", rc == 1, raw)
    rc, doc, raw = lint_json(d, "--disable", "dead-rule")
    check(".ctxpack.conf: the command line's --disable wins", rc == 0 and not findings(doc, "dead-rule"), raw)
    conf = os.path.join(tap.mkdtemp(), "lint.conf")
    with open(conf, "w") as f:
        f.write("severity dead-rule error\n")
    rc, doc, raw = lint_json(d, "--config", conf)
    check("--config FILE replaces the context's .ctxpack.conf", rc == 3, raw)
    for body, want in ((b"bogus x\n", ".ctxpack.conf:1: unknown setting 'bogus'"),
                       (b"\ndisable nope\n", ".ctxpack.conf:2: unknown check id 'nope'"),
                       (b"severity dead-rule loud\n", ".ctxpack.conf:1: unknown level 'loud'"),
                       (b"severity dead-rule\n", ".ctxpack.conf:1: expected 'severity ID LEVEL'"),
                       (b"disable\n", ".ctxpack.conf:1: 'disable' names no check id")):
        rc, out, err = run([tree(dict(files, **{".ctxpack.conf": body}), plain)])
        check(".ctxpack.conf error: %s" % want, rc == 2 and want in err, (rc, err))
    rc, out, err = run(["--config", conf + ".missing", d])
    check("--config of a missing file: exit 2 naming it", rc == 2 and conf + ".missing" in err, err)


def test_diagnoses():
    files = {"node_modules/a/i.js": b"i", "README.md": b"r", "docs/x.md": b"x", "src/a.c": b"a",
             "src/b.log": b"b", ".gitignore": b"g", "t/fixture/.gitignore": b"g"}
    d = tree(files, b"/foo/\nnode_module\nsrc\\node_modules\nsrc # the sources\n*.md\n"
                    b"   ./bar//  \n.gitignore\n**/*.log\n")
    rc, doc, raw = lint_json(d)
    by = {f["line"]: f for f in findings(doc) if f["file"] == ".dockerignore"}
    check("did-you-mean: 'node_module' names 'node_modules', which is sent",
          by.get(2, {}).get("code") == "dead-rule"
          and "did you mean 'node_modules'? ('node_modules/' is sent)" in by[2]["message"], raw)
    check("backslash: 'src\\node_modules' explained as an escape (use '/'), no dead-rule as well",
          by.get(3, {}).get("code") == "backslash-escape"
          and "separate directories with '/'" in by[3]["message"]
          and not [f for f in findings(doc, "dead-rule") if f["line"] == 3], raw)
    check("trailing comment: 'src # the sources' explained",
          by.get(4, {}).get("code") == "trailing-comment"
          and "does not strip a trailing comment" in by[4]["message"], raw)
    check("root-only: '*.md' matches at the root only while 'docs/x.md' is sent: suggests '**/*.md'",
          by.get(5, {}).get("code") == "root-only-rule"
          and "'docs/x.md' is sent; write '**/*.md'" in by[5]["message"], raw)
    check("root-only: a literal name at the root ('.gitignore') is meant there",
          not [f for f in findings(doc, "root-only-rule") if f["line"] == 7], raw)
    check("root-only: '**/*.log' is not root-only", 8 not in by, raw)
    check("messages quote the line as written ('/foo/', '   ./bar//  '), not the cleaned pattern",
          by.get(1, {}).get("message", "").startswith("rule '/foo/' ")
          and by.get(6, {}).get("message", "").startswith("rule '   ./bar//  ' "), raw)
    # A near miss is only one or two edits away, and never the same name.
    d = tree({"srcs/a": b"a", "x": b"x"}, b"zzzz\n")
    rc, doc, raw = lint_json(d)
    check("did-you-mean: nothing is suggested three edits away",
          "did you mean" not in raw, raw)


def test_every_code_seen():
    """Each code is produced somewhere above (guards against a silent check)."""
    seen = set()
    trees = [
        (tree({"a.log": b"l", ".env": b"x", ".git/HEAD": b"h", "node_modules/x": b"x",
               ".cache/x": b"x", "dist/x": b"x", "big": b"b" * 10},
              b"nothere\n*.log\n!*.log\nDockerfile\n.idea\n"), ["--max-file-size", "5"]),
        (tree({"vendor/x": b"x"}, b"vendor\n**/vendor\n"), []),
        (tree({"a/b": b"x"}, b"a\nnowhere/b\n"), []),
        (tree({"d/x.md": b"x"}, b"a\\b\nx # c\n*.md\n"), []),
        (tree(*BK_TREE_1), []),
        (tree({"x": b"x"}), []),
        (tree({"x": b"x"}, b"x\x01\n"), []),
        (tree({"x": b"x"}, b"x\na[\n"), []),
        (outside_ignore_tree(), ["--builder=classic"]),
        (tree({"config/a": b"a", "config/b.key": b"b",
               "Dockerfile": b"FROM scratch\nCOPY config/ /c/\nCOPY nope /\n"}, b"*/*.key\n"), []),
        (tree({"Dockerfile": b"FROM scratch\nBOGUS x\n"}), []),
        (tree({"Dockerfile": b"FROM scratch\nCOPY a[ /\n"}), []),
    ]
    for d, extra in trees:
        rc, doc, raw = lint_json(d, *extra)
        seen |= {f["code"] for f in findings(doc)}
    check("every code is produced by some tree", seen == set(CODES), sorted(set(CODES) - seen))


def missing(doc):
    return [(f["file"], f["line"], f["severity"], f["message"]) for f in findings(doc, "missing-source")]


def test_used():
    """What the build reads: the messages (the corpus of real builds is
    test_used.py's)."""
    d = tree({"config/app.conf": b"c", "a.txt": b"a",
              "Dockerfile": b"FROM scratch\nCOPY a.txt /\n\n\n\n\nCOPY config/ /etc/app/\n"},
             b"# x\n\nconfig\n")
    rc, out, err = run([d])
    check("used: an excluded source is an error naming the Dockerfile line and the rule",
          rc == 3 and "Dockerfile:7: error: COPY config/ /etc/app/ needs 'config/', excluded by "
          ".dockerignore:3 'config' [missing-source]\n" in out, out + err)

    # A rule of an ignore file outside the context is never quoted.
    d = outside_ignore_tree()
    with open(os.path.join(d, "Dockerfile"), "wb") as f:
        f.write(b"FROM scratch\nCOPY x /\n")
    rc, doc, raw = lint_json(d, "--builder=classic")
    m = missing(doc)
    check("used: a rule of an ignore file outside the context shows as <line N>",
          rc == 3 and len(m) == 1 and m[0][1] == 2 and m[0][3].endswith("excluded by "
          + doc["findings"][0]["file"] + ":1 <line 1>") if m and doc["findings"] else False,
          raw)

    # A directory partly excluded: a warning naming what is left out; info
    # when file-type rules (*.log) left them out.
    d = tree({"src/a.c": b"a", "src/b.log": b"b", "src/c.log": b"c",
              "Dockerfile": b"FROM scratch\nCOPY src /src\nCOPY . /all\n"}, b"**/*.log\n")
    rc, out, err = run([d])
    check("used: a directory source partly excluded by a file-type rule is info, exit 0",
          rc == 0 and "Dockerfile:2: info: COPY src /src copies 'src' without 2 excluded "
          "paths: 'src/b.log' (.dockerignore:1 '**/*.log'), 'src/c.log' (.dockerignore:1 "
          "'**/*.log'); left out by file-type rules, as intended [source-partly-excluded]" in out
          and "Dockerfile:3" not in out, out + err)
    d = tree({"src/a.c": b"a", "src/b.log": b"b", "src/private/k.c": b"k",
              "Dockerfile": b"FROM scratch\nCOPY src /src\n"}, b"**/*.log\nsrc/private\n")
    rc, out, err = run([d])
    check("used: a partly excluded directory source is a warning listing what is left out",
          rc == 1 and "Dockerfile:2: warning: COPY src /src copies 'src' without 2 excluded "
          "paths: 'src/b.log' (.dockerignore:1 '**/*.log'), 'src/private/' (.dockerignore:2 "
          "'src/private'); often intended [source-partly-excluded]" in out, out + err)

    # --target, --build-arg
    df = b"FROM scratch AS a\nCOPY nope /\nFROM scratch AS b\nARG F=nope2\nCOPY ${F} /\n"
    d = tree({"x": b"x", "Dockerfile": df})
    for extra, bk, cl in ((["--target", "b"], [5], [2, 5]),
                          (["--target", "b", "--build-arg", "F=x"], [], [2]),
                          (["--target", "a"], [2], [2]),
                          ([], [5], [2, 5])):
        for b, want in (("buildkit", bk), ("classic", cl)):
            rc, doc, raw = lint_json(d, "--builder=" + b, *extra)
            check("used: %s %s fails on lines %s" % (b, " ".join(extra), want),
                  sorted(x[1] for x in missing(doc)) == want, raw)
    rc, doc, raw = lint_json(d, "--target", "c")
    inv = findings(doc, "dockerfile-invalid")
    check("used: an unknown --target is dockerfile-invalid", rc == 3 and len(inv) == 1 and
          "c" in inv[0]["message"], raw)

    # -f -: the Dockerfile on standard input, read once for both walks.
    d = tree({"x": b"x"})
    p = subprocess.run([CTXPACK, "lint", "-f", "-", d], input=b"FROM scratch\nCOPY y /\n",
                       capture_output=True, timeout=60)
    out = p.stdout.decode()
    check("used: -f - reads the Dockerfile from standard input",
          p.returncode == 3 and "-:2: error: COPY y / needs 'y', which is not in the context" in out,
          out + p.stderr.decode())
    p = subprocess.run([CTXPACK, "lint", "-f", "-", d], input=b"#" * (16 << 20) + b"#\n",
                       capture_output=True, timeout=60)
    check("used: -f - is bounded at 16 MiB", p.returncode == 2 and
          b"standard input is larger than 16 MiB" in p.stderr, p.stderr)
    out_df = os.path.join(tap.mkdtemp("ctxpack-lint-"), "Dockerfile")
    with open(out_df, "wb") as f:
        f.write(b"FROM scratch\n")
    a = subprocess.run([CTXPACK, "ls", "-f", "-", d], input=b"FROM scratch\n", capture_output=True)
    b = subprocess.run([CTXPACK, "ls", "-f", out_df, d], capture_output=True)
    p = subprocess.run([CTXPACK, "digest", "-f", "-", "-"], input=b"", capture_output=True,
                       timeout=60)
    check("used: digest refuses '-' as both the source and -f", p.returncode != 0 and
          b"stdin can be only one of them" in p.stderr, p.stderr)
    check("used: ls -f - lists the Dockerfile as one from outside the context",
          a.returncode == 0 and a.stdout == b.stdout and b".dockerfile." in a.stdout,
          (a.stdout, b.stdout, a.stderr))


def main():
    test_help()
    test_clean()
    test_exit_and_usage()
    test_rules()
    test_builders_differ()
    test_builders_differ_limit()
    test_secrets()
    test_noise()
    test_real_tree_noise()
    test_dead_agrees_with_stats()
    test_disable_and_severity()
    test_dirs()
    test_large_and_ignore_file()
    test_control_bytes()
    test_bad_pattern()
    test_dockerfile_excluded()
    test_json_shape()
    test_used()
    test_formats()
    test_suppress_and_config()
    test_diagnoses()
    test_every_code_seen()

    return tap.finish()

if __name__ == "__main__":
    sys.exit(main())
