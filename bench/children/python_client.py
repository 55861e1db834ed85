"""Python's side of the dedl-dask benchmarks: distributed.Client and dask_gateway.Gateway.

Usage: python python_client.py <mode>
The configuration comes as one JSON line on stdin (it may hold a token or a password, which is
never printed). Every report is one JSON line on stdout: {"event": "result", ...} as soon as the
measured work is done, then {"event": "done", "peak_rss_kib": ...} after the clean-up.

Modes (the TypeScript counterpart is bench/children/ours_client.ts):
  cold-direct    connect to a tcp:// scheduler, submit one task, get its result
  cold-gateway   the same through a dask-gateway proxy to a RUNNING cluster
  tasks          client.map over n values + client.gather
  graph          an n-node dask.delayed graph (leaves, partial sums, a total) + compute
  gather         numpy.ones(n) made on the cluster, then timed fetch of its value
  scatter        numpy.ones(n) made here, then timed scatter
  multi-site     the seed's loop: for each site new_cluster + adapt + get_client, in sequence
"""

import json
import sys
import time

MODE = sys.argv[1]
CONFIG = json.loads(sys.stdin.readline())


def emit(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


def peak_rss_kib():
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def token_source(cfg):
    """A bearer token for the gateway: given, or a password grant renewed before it expires."""
    if "token" in cfg:
        return lambda: cfg["token"]
    import urllib.parse
    import urllib.request

    state = {"token": None, "at": 0.0}

    def current():
        if state["token"] is None or time.monotonic() - state["at"] > 20:
            body = urllib.parse.urlencode(
                {
                    "grant_type": "password",
                    "client_id": cfg["client_id"],
                    "username": cfg["username"],
                    "password": cfg["password"],
                }
            ).encode()
            with urllib.request.urlopen(cfg["token_url"], body, timeout=10) as res:
                state["token"] = json.load(res)["access_token"]
            state["at"] = time.monotonic()
        return state["token"]

    return current


def gateway(cfg, site):
    from dask_gateway import Gateway
    from dask_gateway.auth import GatewayAuth

    token = token_source(cfg)

    class Bearer(GatewayAuth):
        def pre_request(self, resp):
            return {"Authorization": "Bearer " + token()}, None

    return Gateway(address=site["address"], proxy_address=site["proxy_address"], auth=Bearer())


def client_for(cfg):
    """A distributed.Client, direct or through the gateway proxy; returns (client, closer)."""
    from distributed import Client

    if "cluster" not in cfg:
        client = Client(cfg["address"])
        return client, client.close
    gw = gateway(cfg, cfg)
    cluster = gw.connect(cfg["cluster"])
    client = cluster.get_client()

    def close():
        client.close()
        cluster.close()
        gw.close()

    return client, close


def cold():
    import operator

    client, close = client_for(CONFIG)
    value = client.submit(operator.add, CONFIG["nonce"], 1).result()
    emit("result", value=value)
    close()


def tasks():
    import operator

    client, close = client_for(CONFIG)
    base, n = CONFIG["base"], CONFIG["n"]
    t0 = time.perf_counter()
    futures = client.map(operator.neg, range(base, base + n))
    values = client.gather(futures)
    ms = (time.perf_counter() - t0) * 1000
    emit("result", ms=ms, check=sum(values))
    del futures
    close()


def graph():
    import operator

    from dask import delayed

    client, close = client_for(CONFIG)
    base, n = CONFIG["base"], CONFIG["n"]
    width = 100
    leaves_n = n - n // (width + 1) - 1  # leaves + partial sums + the total = n nodes
    t0 = time.perf_counter()
    leaves = [delayed(operator.add, pure=True)(i, base) for i in range(leaves_n)]
    sums = [
        delayed(sum, pure=True)(leaves[i : i + width]) for i in range(0, leaves_n, width)
    ]
    total = delayed(sum, pure=True)(sums)
    value = client.compute(total).result()
    ms = (time.perf_counter() - t0) * 1000
    emit("result", ms=ms, check=value, nodes=leaves_n + len(sums) + 1)
    close()


def gather():
    import numpy
    from distributed import wait

    client, close = client_for(CONFIG)
    future = client.submit(numpy.ones, CONFIG["n"])
    wait(future)
    t0 = time.perf_counter()
    value = future.result()
    ms = (time.perf_counter() - t0) * 1000
    emit("result", ms=ms, bytes=value.nbytes, check=float(value[-1]))
    del value
    close()


def scatter():
    import numpy

    client, close = client_for(CONFIG)
    data = numpy.ones(CONFIG["n"])
    t0 = time.perf_counter()
    future = client.scatter(data)
    ms = (time.perf_counter() - t0) * 1000
    emit("result", ms=ms, bytes=data.nbytes, key=future.key)
    del future
    close()


def multi_site():
    sites = CONFIG["sites"]
    gateways = {s["id"]: gateway(CONFIG, s) for s in sites}
    clusters = []
    per_site = {}
    try:
        t0 = time.perf_counter()
        cpu0 = time.process_time()
        for s in sites:
            ts = time.perf_counter()
            cluster = gateways[s["id"]].new_cluster()
            clusters.append(cluster)
            emit("cluster", site=s["id"], name=cluster.name)
            cluster.adapt(minimum=s["min"], maximum=s["max"])
            cluster.get_client(set_as_default=False)
            per_site[s["id"]] = (time.perf_counter() - ts) * 1000
        ms = (time.perf_counter() - t0) * 1000
        cpu_ms = (time.process_time() - cpu0) * 1000
        emit("result", ms=ms, cpuMs=cpu_ms, per_site=per_site)
    finally:
        for cluster in clusters:
            cluster.shutdown()
        for gw in gateways.values():
            gw.close()


MODES = {
    "cold-direct": cold,
    "cold-gateway": cold,
    "tasks": tasks,
    "graph": graph,
    "gather": gather,
    "scatter": scatter,
    "multi-site": multi_site,
}

if __name__ == "__main__":
    MODES[MODE]()
    emit("done", peak_rss_kib=peak_rss_kib())
