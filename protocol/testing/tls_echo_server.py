"""Mutual-TLS echo server for transport tests.

Usage: python tls_echo_server.py <cert.pem> <key.pem>
Trusts only <cert.pem> (as dask-gateway clusters do), requires a client certificate, prints its
port, and for each connection sends one line with the SNI name the client asked for ("-" for
none), then echoes every byte back. Exits when stdin closes.
"""

import os
import socket
import ssl
import sys
import threading

cert, key = sys.argv[1], sys.argv[2]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ctx.load_verify_locations(cert)
ctx.verify_mode = ssl.CERT_REQUIRED


def remember_sni(sock, name, _ctx):
    sock.requested_sni = name


ctx.sni_callback = remember_sni


def serve(raw):
    try:
        conn = ctx.wrap_socket(raw, server_side=True)
    except (ssl.SSLError, OSError):
        raw.close()
        return
    # A client that refuses the server's identity closes at once: the send then fails quietly.
    with conn:
        try:
            conn.sendall((getattr(conn, "requested_sni", None) or "-").encode() + b"\n")
            while True:
                data = conn.recv(1 << 20)
                if not data:
                    break
                conn.sendall(data)
        except OSError:
            pass


def accept(listener):
    while True:
        raw, _ = listener.accept()
        threading.Thread(target=serve, args=(raw,), daemon=True).start()


listener = socket.create_server(("127.0.0.1", 0))
threading.Thread(target=accept, args=(listener,), daemon=True).start()
print(listener.getsockname()[1], flush=True)
sys.stdin.buffer.read()
os._exit(0)
