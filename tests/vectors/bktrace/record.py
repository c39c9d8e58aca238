#!/usr/bin/env python3
"""Records the vectors of tests/unit/test_bktrace.c from a running engine.

For each case a small context (a Dockerfile, a.txt, dir/b; a.txt holds a
fresh nonce so the first build is not cached) is sent as a tar to the
engine's /build?version=2 (BuildKit), and the raw answer stream is saved as
CASE.stream; the same case is then built by the docker CLI
(`docker build --progress=plain - < ctx.tar`, another nonce) and its output
saved as CASE.docker.txt, from which CASE.expected is derived (see
tests/README.md, "bktrace vectors").  The 'cached' case is the 'ok'
context built a second time (both for the stream and the CLI).

    eval "$(scripts/engine.sh env)"
    python3 tests/vectors/bktrace/record.py tests/vectors/bktrace

`record.py --derive DIR` only derives the CASE.expected files again.
"""
import http.client
import io
import os
import re
import socket
import subprocess
import sys
import tarfile
import time

CASES = {
    'ok': 'FROM scratch\nCOPY a.txt /a.txt\nCOPY dir /dir\n',
    'copy-fail': 'FROM scratch\nCOPY missing.txt /m\n',
    'syntax': 'FROM scratch\nCOPPY a.txt /a.txt\n',
}


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__('localhost', timeout=120)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


def context_tar(dockerfile):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT) as tf:
        for name, data in (('Dockerfile', dockerfile.encode()),
                           ('a.txt', ('hello %d\n' % time.time_ns()).encode()),
                           ('dir/b', b'x\n')):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mode = 0o644
            ti.mtime = 1700000000
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def post(sock, tar, tag):
    c = UnixConnection(sock)
    c.request('POST', '/v1.45/build?version=2&t=' + tag, body=tar,
              headers={'Content-Type': 'application/x-tar'})
    r = c.getresponse()
    body = r.read()
    c.close()
    return body


def docker_plain(tar, tag):
    p = subprocess.run(['docker', 'build', '--progress=plain', '-t', tag, '-'],
                       input=tar, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return p.stdout


def derive(text):
    """CASE.expected from the CLI's output: buildx's own first line ('#0
    building with ...' and the blank line after it) and its closing summary
    (from the first line starting 'Dockerfile:' or 'ERROR: failed to solve')
    are cut, and what differs from build to build is normalised as
    tests/unit/test_bktrace.c normalises ctxpack's rendering: durations
    ('0.1s') become 'N.Ns' (a status's duration before ' done', printed only
    above 10 ms, is dropped), 'sha256:' and 64 hex digits 'sha256:H', and
    BuildKit's 'ref ID::ID' of a failed checksum 'ref R'."""
    lines = text.split('\n')
    if lines and lines[0].startswith('#0 building with'):
        lines = lines[2:]
    for i, l in enumerate(lines):
        if l.startswith('Dockerfile:') or l.startswith('ERROR: failed to solve'):
            lines = lines[:i] + ['']
            break
    out = '\n'.join(lines)
    out = re.sub(r' [0-9]+\.[0-9]s done$', ' done', out, flags=re.M)
    out = re.sub(r'[0-9]+\.[0-9]s', 'N.Ns', out)
    out = re.sub(r'sha256:[0-9a-f]{64}', 'sha256:H', out)
    out = re.sub(r'ref [^ :]+::[0-9a-z]+', 'ref R', out)
    return out


def derive_all(out):
    for name in list(CASES) + ['cached']:
        with open(os.path.join(out, name + '.docker.txt'), 'rb') as f:
            text = f.read().decode()
        with open(os.path.join(out, name + '.expected'), 'w') as f:
            f.write(derive(text))


def record(out, sock, tag_prefix='ctxpack-bktrace-'):
    """Records every case into out through the engine at sock (the docker
    CLI reads DOCKER_HOST and DOCKER_CONFIG from the environment); returns
    the tags it made."""
    tags = []
    for name, df in CASES.items():
        tar = context_tar(df)
        tag = tag_prefix + name + ':latest'
        tags.append(tag)
        with open(os.path.join(out, name + '.stream'), 'wb') as f:
            f.write(post(sock, tar, tag))
        if name == 'ok':
            with open(os.path.join(out, 'cached.stream'), 'wb') as f:
                f.write(post(sock, tar, tag))
        tar = context_tar(df)
        with open(os.path.join(out, name + '.docker.txt'), 'wb') as f:
            f.write(docker_plain(tar, tag))
        if name == 'ok':
            with open(os.path.join(out, 'cached.docker.txt'), 'wb') as f:
                f.write(docker_plain(tar, tag))
    derive_all(out)
    return tags


def main():
    out = sys.argv[-1]
    if sys.argv[1] == '--derive':
        derive_all(out)
        return
    host = os.environ.get('DOCKER_HOST', '')
    if not host.startswith('unix://'):
        sys.exit('record.py: DOCKER_HOST must be unix:// (eval "$(scripts/engine.sh env)")')
    record(out, host[len('unix://'):])


if __name__ == '__main__':
    main()
