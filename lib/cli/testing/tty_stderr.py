"""Runs a command with its stderr on a pseudo-terminal (stdin and stdout as given), and copies
what it wrote there to this process's stderr: how a user's terminal sees the command's stderr.

    python3 tty_stderr.py <command> [args...]
"""
import os
import pty
import subprocess
import sys

master, slave = pty.openpty()
child = subprocess.Popen(sys.argv[1:], stderr=slave)
os.close(slave)
out = sys.stderr.buffer
while True:
    try:
        chunk = os.read(master, 65536)
    except OSError:  # EIO once the child has closed the terminal
        break
    if not chunk:
        break
    out.write(chunk)
    out.flush()
sys.exit(child.wait())
