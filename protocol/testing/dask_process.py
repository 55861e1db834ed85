"""One Dask scheduler or worker for the TypeScript test fixture (local_cluster.ts).

Usage: python dask_process.py scheduler [tls_dir]
       python dask_process.py worker <scheduler-address> <host> <nthreads> [tls_dir]
       python dask_process.py nanny <scheduler-address> <host> <nthreads> [tls_dir]
Prints {"address": ...} on stdout once serving, and exits as soon as stdin closes, so a test
process that dies cannot leave it running. A nanny first closes (stopping its worker process).
"""

import asyncio
import json
import os
import sys
import threading


def exit_when_parent_goes(closing=None) -> None:
    sys.stdin.buffer.read()
    if closing is not None:
        try:
            closing().result(timeout=10)
        except Exception:
            pass
    os._exit(0)


def security(tls_dir):
    if not tls_dir:
        return None
    from distributed.security import Security

    cert = os.path.join(tls_dir, "cert.pem")
    key = os.path.join(tls_dir, "key.pem")
    return Security(
        tls_ca_file=cert,
        tls_scheduler_cert=cert,
        tls_scheduler_key=key,
        tls_worker_cert=cert,
        tls_worker_key=key,
        tls_client_cert=cert,
        tls_client_key=key,
        require_encryption=True,
    )


async def main(argv) -> None:
    from distributed import Nanny, Scheduler, Worker

    role = argv[0]
    if role == "scheduler":
        tls_dir = argv[1] if len(argv) > 1 else None
        server = Scheduler(
            host="127.0.0.1",
            port=0,
            dashboard=False,
            protocol="tls" if tls_dir else "tcp",
            security=security(tls_dir),
        )
    else:
        address, host, nthreads = argv[1], argv[2], int(argv[3])
        tls_dir = argv[4] if len(argv) > 4 else None
        server = (Nanny if role == "nanny" else Worker)(
            address,
            host=host,
            nthreads=nthreads,
            protocol="tls" if tls_dir else "tcp",
            security=security(tls_dir),
        )
    await server
    if role == "nanny":
        loop = asyncio.get_running_loop()
        closing = lambda: asyncio.run_coroutine_threadsafe(server.close(), loop)  # noqa: E731
        threading.Thread(target=exit_when_parent_goes, args=(closing,), daemon=True).start()
    print(json.dumps({"address": server.address}), flush=True)
    await server.finished()


if __name__ == "__main__":
    if sys.argv[1] != "nanny":
        threading.Thread(target=exit_when_parent_goes, daemon=True).start()
    asyncio.run(main(sys.argv[1:]))
