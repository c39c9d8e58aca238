#!/usr/bin/env python3
"""Records what a real docker build reads from its context: for each case
of CASES (a small tree, its ignore files and a Dockerfile) it runs both
builders on the engine (DOCKER_HOST and DOCKER_CONFIG, see scripts/engine.sh
env) and writes one JSON line per case to tests/vectors/used.jsonl (or the
file given): per builder whether the build succeeds, the Dockerfile line
that fails and the builder's message, what the image holds, and (BuildKit)
the context bytes it transferred.

    eval "$(scripts/engine.sh env)"
    tests/engine/record_used.py [OUT [CASE...]]   (CASEs: record only these again)

tests/cli/test_used.py replays the recordings against `ctxpack lint` and,
with CTXPACK_ENGINE_HOST set, re-runs the builds live.

A case with "stdin" gives its Dockerfile as `-f -`.  The case tree format: "path": "content" is a file, "path/": "" a
directory, "path": {"symlink": "target"} a symlink, {"hardlink": "path"} a
second name of an earlier file, {"bytes": N, "seed": S} a file of N
deterministic bytes (gen_bytes).  A case with "exact" is also built with
--progress=rawjson, whose statuses carry the context's transferred size
in bytes ("transferred_bytes"; the plain progress rounds it to 4 digits)."""
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, '..', 'vectors', 'used.jsonl')

T = {'a.txt': 'a\n', 'b.txt': 'bb\n', 'c.md': 'c\n', 'config/app.conf': 'conf\n',
     'config/secret.key': 'k\n', 'src/x/y.c': 'y\n', 'src/z.c': 'z\n', 'empty/': ''}

def gen_bytes(n, seed):
    """N bytes of text-like data from SEED (a linear congruential sequence)."""
    out = bytearray(n)
    x = seed & 0xffffffff
    for i in range(n):
        x = (x * 1103515245 + 12345) & 0xffffffff
        out[i] = 97 + (x >> 16) % 26
    return bytes(out)


def big_tree():
    """A few MB: nested directories, files across the 32 KiB chunks of
    fsutil's sender, over 128 entries (two-byte IDs), symlinks, a hard
    link, an excluded cache and logs with one re-included."""
    t = {}
    for i in range(150):
        t['app/src/m%03d/f.js' % i] = {'bytes': 100 + 37 * i, 'seed': i}
    for i in range(6):
        t['app/assets/img%d.bin' % i] = {'bytes': 300000 + 65536 * i + 7, 'seed': 1000 + i}
    t['app/assets/empty.bin'] = ''
    t['app/cache/blob.bin'] = {'bytes': 900000, 'seed': 7}
    t['app/logs/a.log'] = {'bytes': 5000, 'seed': 8}
    t['app/logs/keep.log'] = {'bytes': 70000, 'seed': 9}
    t['app/current'] = {'symlink': 'assets/img0.bin'}
    t['app/assets/same.bin'] = {'hardlink': 'app/assets/img1.bin'}
    t['lib/deep/er/x.c'] = {'bytes': 40000, 'seed': 10}
    t['lib/y.c'] = 'y\n'
    t['web'] = {'symlink': 'app/assets'}
    t['README.md'] = 'readme\n'
    return t


BIG = big_tree()
BIG_IGNORE = 'app/cache\napp/logs/*\n!app/logs/keep.log\n*.md\n'

CASES = [
    dict(name='file', files=T, dockerfile='FROM scratch\nCOPY a.txt /\n'),
    dict(name='file-missing', files=T, dockerfile='FROM scratch\nCOPY a.txt /\nCOPY nope.txt /\n'),
    dict(name='dir', files=T, dockerfile='FROM scratch\nCOPY config /c/\n'),
    dict(name='dir-slash', files=T, dockerfile='FROM scratch\nCOPY config/ /c/\n'),
    dict(name='dir-empty', files=T, dockerfile='FROM scratch\nCOPY empty /e/\n'),
    dict(name='dot', files=T, dockerignore='src\n', dockerfile='FROM scratch\nCOPY . /all/\n'),
    dict(name='star', files=T, dockerfile='FROM scratch\nCOPY *.txt /t/\n'),
    dict(name='question', files=T, dockerfile='FROM scratch\nCOPY ?.txt /t/\n'),
    dict(name='class', files=T, dockerfile='FROM scratch\nCOPY [ab].txt /t/\n'),
    dict(name='class-negated', files=T, dockerfile='FROM scratch\nCOPY [^a].txt /t/\n'),
    dict(name='star-dir', files=T, dockerfile='FROM scratch\nCOPY src/* /s/\n'),
    dict(name='star-middle', files=T, dockerfile='FROM scratch\nCOPY s*/x/*.c /s/\n'),
    dict(name='star-matches-dir', files=T, dockerfile='FROM scratch\nCOPY con* /s/\n'),
    dict(name='doublestar', files=T, dockerfile='FROM scratch\nCOPY **/*.c /s/\n'),
    dict(name='doublestar-one', files=T, dockerfile='FROM scratch\nCOPY **/z.c /s/\n'),
    dict(name='doublestar-top', files=T, dockerfile='FROM scratch\nCOPY ** /s/\n'),
    dict(name='wildcard-none', files=T, dockerfile='FROM scratch\nCOPY a.txt /\nCOPY *.nope /n/\n'),
    dict(name='wildcard-none-dir', files=T, dockerfile='FROM scratch\nCOPY a.txt /\nCOPY nodir/*.c /n/\n'),
    dict(name='wildcard-excluded', files=T, dockerignore='*.txt\n',
         dockerfile='FROM scratch\nCOPY c.md /\nCOPY *.txt /t/\n'),
    dict(name='wildcard-partly-excluded', files=T, dockerignore='a.txt\n',
         dockerfile='FROM scratch\nCOPY *.txt /t/\n'),
    dict(name='arg', files=T, build_args=['WHAT=config'],
         dockerfile='FROM scratch\nARG WHAT=src\nCOPY ${WHAT}/app.conf /\n'),
    dict(name='arg-default-missing', files=T,
         dockerfile='FROM scratch\nARG WHAT=src\nCOPY ${WHAT}/app.conf /\n'),
    dict(name='env', files=T, dockerfile='FROM scratch\nENV D=src\nCOPY $D/z.c /\n'),
    dict(name='target-skips', files=T, target='good',
         dockerfile='FROM scratch AS bad\nCOPY nope.txt /\n\nFROM scratch AS good\nCOPY a.txt /\n'),
    dict(name='target-needs', files=T, target='good',
         dockerfile='FROM scratch AS bad\nCOPY nope.txt /\n\nFROM scratch AS good\nCOPY --from=bad /nope.txt /\n'),
    dict(name='last-stage', files=T,
         dockerfile='FROM scratch AS bad\nCOPY nope.txt /\n\nFROM scratch AS good\nCOPY a.txt /\n'),
    dict(name='excluded', files=T, dockerignore='a.txt\nconfig\n',
         dockerfile='FROM scratch\nCOPY b.txt /\nCOPY config/ /c/\n'),
    dict(name='excluded-file', files=T, dockerignore='# comment\n*.txt\n',
         dockerfile='FROM scratch\nCOPY c.md /\nCOPY a.txt /\n'),
    dict(name='excluded-below', files=T, dockerignore='config\n',
         dockerfile='FROM scratch\nCOPY config/app.conf /\n'),
    dict(name='dir-partly-excluded', files=T, dockerignore='config/*.key\n',
         dockerfile='FROM scratch\nCOPY config /c/\n'),
    dict(name='reincluded', files=T, dockerignore='config\n!config/app.conf\n',
         dockerfile='FROM scratch\nCOPY config/app.conf /\n'),
    dict(name='dockerfile-ignore', files=T, dockerignore='', dockerfile_ignore='a.txt\n',
         dockerfile='FROM scratch\nCOPY b.txt /\nCOPY a.txt /\n'),
    dict(name='dotdot', files=T, dockerfile='FROM scratch\nCOPY ../a.txt /\n'),
    dict(name='dotdot-deep', files=T, dockerfile='FROM scratch\nCOPY src/../../../config/app.conf /\n'),
    dict(name='dotdot-missing', files=T, dockerfile='FROM scratch\nCOPY ../../nope /\n'),
    dict(name='leading-slash', files=T, dockerfile='FROM scratch\nCOPY /a.txt /\n'),
    dict(name='leading-slash-dir', files=T, dockerfile='FROM scratch\nCOPY /config/ /c/\n'),
    dict(name='dot-components', files=T, dockerfile='FROM scratch\nCOPY ./src/./x//y.c /\n'),
    dict(name='symlink-file', files=dict(T, **{'l': {'symlink': 'a.txt'}}),
         dockerfile='FROM scratch\nCOPY l /\n'),
    dict(name='symlink-dangling', files=dict(T, **{'l': {'symlink': 'nope'}}),
         dockerfile='FROM scratch\nCOPY a.txt /\nCOPY l /\n'),
    dict(name='symlink-excluded-target', files=dict(T, **{'l': {'symlink': 'a.txt'}}),
         dockerignore='a.txt\n', dockerfile='FROM scratch\nCOPY b.txt /\nCOPY l /\n'),
    dict(name='add', files=T, dockerfile='FROM scratch\nADD b.txt /\nADD nope /\n'),
    dict(name='multi-source', files=T, dockerfile='FROM scratch\nCOPY a.txt nope b.txt /d/\n'),
    dict(name='json-form', files=T, dockerfile='FROM scratch\nCOPY ["a.txt", "/j/"]\nCOPY ["nope", "/j/"]\n'),
    dict(name='case', files=T, dockerfile='FROM scratch\nCOPY A.TXT /\n'),
    dict(name='symlink-dir', files=dict(T, **{'lnk': {'symlink': 'config'}}),
         dockerfile='FROM scratch\nCOPY lnk/app.conf /\n'),
    dict(name='symlink-dir-excluded', files=dict(T, **{'lnk': {'symlink': 'config'}}),
         dockerignore='config\n', dockerfile='FROM scratch\nCOPY a.txt /\nCOPY lnk/app.conf /\n'),
    dict(name='dotdot-wildcard', files=T, dockerfile='FROM scratch\nCOPY ../*.txt /t/\n'),
    dict(name='wildcard-through-symlink', files=dict(T, **{'lnk': {'symlink': 'config'}}),
         dockerfile='FROM scratch\nCOPY lnk/*.conf /t/\n'),
    dict(name='dockerfile-ignore-dir', files=T, dockerfile_ignore='config\n',
         dockerfile='FROM scratch\nCOPY a.txt /\nCOPY config/app.conf /\n'),
    dict(name='reincluded-dir', files=T, dockerignore='config\n!config/app.conf\n',
         dockerfile='FROM scratch\nCOPY config /c/\n'),
    dict(name='stdin', files=T, stdin=True, dockerfile='FROM scratch\nCOPY a.txt /\nCOPY nope /\n'),
    dict(name='stdin-ignore', files=T, stdin=True, dockerignore='b.txt\n', dockerfile_ignore='a.txt\n',
         dockerfile='FROM scratch\nCOPY c.md /\nCOPY a.txt /\nCOPY b.txt /\n'),
    dict(name='mount-missing', files=T,
         dockerfile='FROM scratch\nRUN --mount=type=bind,source=nope,target=/m ["/bin/true"]\n'),
    dict(name='mount-excluded', files=T, dockerignore='config\n',
         dockerfile='FROM scratch\nRUN --mount=type=bind,source=config,target=/m ["/bin/true"]\n'),
    dict(name='mount-present', files=T,
         dockerfile='FROM scratch\nRUN --mount=type=bind,source=a.txt,target=/m ["/bin/true"]\n'),
    dict(name='dockerignore-copied', files=T, dockerignore='c.md\n',
         dockerfile='FROM scratch\nCOPY .dockerignore /\n'),
    dict(name='big-dir', files=BIG, dockerignore=BIG_IGNORE, exact=True,
         dockerfile='FROM scratch\nCOPY app/ /app/\n'),
    dict(name='big-dot', files=BIG, dockerignore=BIG_IGNORE, exact=True,
         dockerfile='FROM scratch\nCOPY . /all/\n'),
    dict(name='big-wildcards', files=BIG, dockerignore=BIG_IGNORE, exact=True,
         dockerfile='FROM scratch\nCOPY app/src/m1*/ /s/\nCOPY **/*.c /c/\nCOPY app/logs /l/\n'),
    dict(name='big-symlinks', files=BIG, dockerignore=BIG_IGNORE, exact=True,
         dockerfile='FROM scratch\nCOPY web/ /w/\nCOPY app/current /cur\n'),
    dict(name='big-stages', files=BIG, dockerignore=BIG_IGNORE, exact=True, target='b',
         dockerfile='FROM scratch AS a\nCOPY app/assets /a/\nFROM scratch AS b\n'
                    'COPY lib /lib/\nCOPY app/src/m00* /s/\n'),
    dict(name='dockerfile-excluded-dot', files=T, dockerignore='Dockerfile\n', exact=True,
         dockerfile='FROM scratch\nCOPY . /x/\n'),
    dict(name='dockerfile-copied-excluded', files=T, dockerignore='Dockerfile\n',
         dockerfile='FROM scratch\nCOPY Dockerfile /\n'),
]


# The messages of a build that fails because a source is not in the
# context (the rest, such as a RUN that cannot run here, fail otherwise).
SOURCE_FAILURES = (
    '": not found',                            # BuildKit: the checksum of a source
    ': no such file or directory',             # BuildKit: lstat of a wildcard's directory
    'file not found in build context',         # classic
    'no source files were specified',          # classic: a wildcard matched nothing
    'forbidden path outside the build context',  # classic: '..'
)


def source_failure(result):
    """Did this recorded build fail for a missing source?"""
    return not result['ok'] and any(m in result.get('message', '') for m in SOURCE_FAILURES)


def write_tree(d, case):
    for p, v in case['files'].items():
        full = os.path.join(d, p)
        if p.endswith('/'):
            os.makedirs(full, exist_ok=True)
            continue
        os.makedirs(os.path.dirname(full), exist_ok=True)
        if isinstance(v, dict) and 'symlink' in v:
            os.symlink(v['symlink'], full)
        elif isinstance(v, dict) and 'hardlink' in v:
            os.link(os.path.join(d, v['hardlink']), full)
        elif isinstance(v, dict):
            with open(full, 'wb') as f:
                f.write(gen_bytes(v['bytes'], v['seed']))
        else:
            with open(full, 'w') as f:
                f.write(v)
    if not case.get('stdin'):
        with open(os.path.join(d, 'Dockerfile'), 'w') as f:
            f.write(case['dockerfile'])
    if case.get('dockerignore') is not None:
        with open(os.path.join(d, '.dockerignore'), 'w') as f:
            f.write(case['dockerignore'])
    if case.get('dockerfile_ignore') is not None:
        with open(os.path.join(d, 'Dockerfile.dockerignore'), 'w') as f:
            f.write(case['dockerfile_ignore'])


def build_args(case):
    a = ['-f', '-'] if case.get('stdin') else []
    for ba in case.get('build_args', []):
        a += ['--build-arg', ba]
    if case.get('target'):
        a += ['--target', case['target']]
    return a


def tar_names(data):
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        return sorted(m.name.rstrip('/') for m in t.getmembers() if m.name not in ('.', './'))


def run_buildkit(d, case):
    out = os.path.join(d, '..', 'out.tar')
    p = subprocess.run(['docker', 'build', '--progress=plain', '--no-cache', '-o',
                        'type=tar,dest=' + out] + build_args(case) + [d],
                       capture_output=True, text=True, timeout=300, input=case['dockerfile'])
    log = p.stdout + p.stderr
    r = {'ok': p.returncode == 0}
    m = re.findall(r'transferring context: (\d+)B', log)
    # the ignore file's transfer comes first; the context's is the last one
    ctx = re.search(r'load build context\n(?:.*\n)*?#\d+ transferring context: ([\d.]+)([kMG]?B)', log)
    if ctx:
        r['transferred'] = ctx.group(1) + ctx.group(2)
    if p.returncode == 0:
        with open(out, 'rb') as f:
            r['files'] = tar_names(f.read())
        os.unlink(out)
    else:
        m = re.search(r'^Dockerfile:(\d+)$', log, re.M)
        r['line'] = int(m.group(1)) if m else None
        e = re.search(r'^ERROR: (.*)$', log, re.M)
        r['message'] = re.sub(r'ref [0-9a-z-]+::[0-9a-z]+', 'ref REF', e.group(1)) if e else log[-400:]
    return r


def transferred_bytes(d, case):
    """The context's transfer in bytes: a --progress=rawjson build's last
    "transferring context:" status of the "load build context" vertex."""
    p = subprocess.run(['docker', 'build', '--progress=rawjson', '--no-cache', '-o',
                        'type=tar,dest=' + os.path.join(d, '..', 'out2.tar')] + build_args(case) + [d],
                       capture_output=True, text=True, timeout=300, input=case['dockerfile'])
    dec, text, i, ctx_vertex, got = json.JSONDecoder(), p.stdout + p.stderr, 0, set(), None
    while True:
        m = re.compile(r'\{').search(text, i)
        if not m:
            break
        try:
            obj, i = dec.raw_decode(text, m.start())
        except ValueError:
            i = m.start() + 1
            continue
        for v in obj.get('vertexes') or []:
            if v.get('name') == '[internal] load build context':
                ctx_vertex.add(v['digest'])
        for st in obj.get('statuses') or []:
            if st.get('id') == 'transferring context:' and st.get('vertex') in ctx_vertex:
                got = max(got or 0, st.get('current', 0))
    return got


def run_classic(d, case):
    env = dict(os.environ, DOCKER_BUILDKIT='0')
    p = subprocess.run(['docker', 'build', '--no-cache', '-q'] + build_args(case) + [d],
                       capture_output=True, text=True, timeout=300, env=env, input=case['dockerfile'])
    r = {'ok': p.returncode == 0}
    if p.returncode == 0:
        img = p.stdout.strip().splitlines()[-1]
        c = subprocess.run(['docker', 'create', img, '/none'], capture_output=True, text=True,
                           check=True).stdout.strip()
        try:
            t = subprocess.run(['docker', 'export', c], capture_output=True, check=True).stdout
            r['files'] = [n for n in tar_names(t) if n not in ('.dockerenv', 'dev', 'etc', 'proc', 'sys',
                                                               'etc/hostname', 'etc/hosts', 'etc/resolv.conf',
                                                               'etc/mtab', 'dev/console', 'dev/pts', 'dev/shm')]
        finally:
            subprocess.run(['docker', 'rm', c], capture_output=True)
            subprocess.run(['docker', 'rmi', img], capture_output=True)
        return r
    # without -q the steps say which instruction failed: run it again
    p = subprocess.run(['docker', 'build', '--no-cache'] + build_args(case) + [d],
                       capture_output=True, text=True, timeout=300, env=env, input=case['dockerfile'])
    log = p.stdout + p.stderr
    steps = re.findall(r'^Step \d+/\d+ : (.*)$', log, re.M)
    r['line'] = None
    if steps:
        last = steps[-1].strip()
        for i, l in enumerate(case['dockerfile'].split('\n'), 1):
            if l.strip() == last:
                r['line'] = i
    # the CLI's deprecation notice: "DEPRECATED: ..." and its indented lines
    errs = [l for l in log.splitlines() if l.strip() and not l.startswith(('Step ', ' ---> ', 'Sending'))
            and not l.startswith(('DEPRECATED', '    '))]
    r['message'] = errs[-1] if errs else log[-400:]
    return r


def record(case):
    with tempfile.TemporaryDirectory() as tmp:
        d = os.path.join(tmp, 'ctx')
        os.mkdir(d)
        write_tree(d, case)
        bk = run_buildkit(d, case)
        if case.get('exact'):
            # a tree of its own: BuildKit keeps what it received of a
            # directory and would ask again only for what changed
            with tempfile.TemporaryDirectory() as tmp2:
                d2 = os.path.join(tmp2, 'ctx')
                os.mkdir(d2)
                write_tree(d2, case)
                bk['transferred_bytes'] = transferred_bytes(d2, case)
        return dict(case, buildkit=bk, classic=run_classic(d, case))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    only = sys.argv[2:]  # names: only these are recorded again, the rest kept
    old = {}
    if only and os.path.exists(out):
        with open(out) as f:
            old = {json.loads(l)['name']: l.rstrip('\n') for l in f if l.strip()}
    lines = []
    for c in CASES:
        if only and c['name'] not in only:
            if c['name'] in old:
                lines.append(old[c['name']])
            continue
        r = record(c)
        print(c['name'], 'buildkit', r['buildkit'], 'classic', r['classic'], file=sys.stderr)
        lines.append(json.dumps(r, sort_keys=True))
    with open(out, 'w') as f:
        f.write('\n'.join(lines) + '\n')


if __name__ == '__main__':
    main()
