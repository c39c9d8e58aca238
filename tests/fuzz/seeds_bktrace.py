#!/usr/bin/env python3
"""seeds_bktrace.py: writes the seeds of fuzz_bktrace into DIR.

    seeds_bktrace.py DIR

Each recorded engine stream of tests/vectors/bktrace (its
"moby.buildkit.trace" messages, decoded from base64) becomes one seed per
mode (plain, tty, quiet): the mode byte, then each message as a 2-byte
little-endian length and its protobuf bytes.  One more seed per stream
sends its first message as base64 text (bit 15 of the length)."""
import base64
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VEC = os.path.join(HERE, '..', 'vectors', 'bktrace')


def messages(path):
    out = []
    with open(path) as f:
        for line in f:
            m = json.loads(line)
            if m.get('id') == 'moby.buildkit.trace':
                out.append(m['aux'])
    return out


def main():
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    for name in sorted(os.listdir(VEC)):
        if not name.endswith('.stream'):
            continue
        msgs = messages(os.path.join(VEC, name))
        body = b''.join(struct.pack('<H', len(base64.b64decode(a))) + base64.b64decode(a)
                        for a in msgs)
        for mode, tag in ((0, 'plain'), (1, 'tty'), (2, 'quiet')):
            with open(os.path.join(d, 'seed-%s-%s' % (name[:-7], tag)), 'wb') as f:
                f.write(bytes([mode]) + body)
        text = msgs[0].encode()
        with open(os.path.join(d, 'seed-%s-text' % name[:-7]), 'wb') as f:
            f.write(b'\x00' + struct.pack('<H', 0x8000 | len(text)) + text + body)


if __name__ == '__main__':
    main()
