#!/usr/bin/env python3
"""tlscerts.py: throwaway TLS material for the remote-engine tests, made
with the openssl(1) command: a CA, a server certificate for 127.0.0.1 and
localhost, one for other.invalid only, a client certificate, and a second
CA that signed none of them.

    import tlscerts
    c = tlscerts.make(tmpdir)      # c.ca, c.server, c.server_key, c.client,
                                   # c.client_key, c.other_ca (paths)
    ctx = tlscerts.server_context(c, client_cert=True)   # ssl.SSLContext
    tlscerts.cert_dir(c, dest, client=True)   # dest/ca.pem, cert.pem, key.pem

Only the Python standard library and openssl(1) are used.
"""
import os
import shutil
import ssl
import subprocess


class Certs:
    pass


def _run(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _ca(d, name, cn):
    _run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", name + "-key.pem", "-out", name + ".pem", "-days", "2",
         "-subj", "/CN=" + cn, "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)


def _leaf(d, name, cn, ext):
    with open(os.path.join(d, name + ".ext"), "w") as f:
        f.write(ext)
    _run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", name + "-key.pem", "-out", name + ".csr", "-subj", "/CN=" + cn, cwd=d)
    _run("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
         "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext",
         cwd=d)


def make(d):
    """The material in directory d (made if missing); a Certs of paths."""
    os.makedirs(d, exist_ok=True)
    _ca(d, "ca", "ctxpack test CA")
    _ca(d, "other-ca", "ctxpack unrelated CA")
    _leaf(d, "server", "localhost",
          "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    _leaf(d, "client", "ctxpack client", "extendedKeyUsage=clientAuth\n")
    _leaf(d, "othername", "other.invalid",
          "subjectAltName=DNS:other.invalid\nextendedKeyUsage=serverAuth\n")
    c = Certs()
    c.dir = d
    c.ca = os.path.join(d, "ca.pem")
    c.other_ca = os.path.join(d, "other-ca.pem")
    c.server = os.path.join(d, "server.pem")
    c.server_key = os.path.join(d, "server-key.pem")
    c.client = os.path.join(d, "client.pem")
    c.client_key = os.path.join(d, "client-key.pem")
    c.othername = os.path.join(d, "othername.pem")
    c.othername_key = os.path.join(d, "othername-key.pem")
    return c


def server_context(c, client_cert=False, other_name=False):
    """A server-side SSLContext with the server certificate (other_name:
    the one for other.invalid only); client_cert: a client certificate
    signed by the CA is required."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if other_name:
        ctx.load_cert_chain(c.othername, c.othername_key)
    else:
        ctx.load_cert_chain(c.server, c.server_key)
    if client_cert:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(c.ca)
    return ctx


def cert_dir(c, dest, client=True, ca=None):
    """dest/ca.pem (ca, default the CA) and, with client, cert.pem and
    key.pem: the layout of DOCKER_CERT_PATH and of a context's TLS
    directory.  Returns dest."""
    os.makedirs(dest, exist_ok=True)
    shutil.copy(ca or c.ca, os.path.join(dest, "ca.pem"))
    if client:
        shutil.copy(c.client, os.path.join(dest, "cert.pem"))
        shutil.copy(c.client_key, os.path.join(dest, "key.pem"))
    return dest
