"""Python's side of the dataset benchmarks: xarray's open_zarr, and the flood workflow with
dask_gateway and distributed as DEDL's Python client (dedl-stack-client) runs it.

Usage: python python_dataset.py <mode>   (configuration: one JSON line on stdin; it may hold a
password, which is never printed). Reports are JSON lines on stdout, as python_client.py's.

Modes (the TypeScript counterpart is bench/children/ours_dataset.ts):
  open    xr.open_zarr(url) `repeat` times (xarray is imported before the first is timed)
  flood   open both datasets, log in, a cluster per dataset location (new_cluster, adapt,
          get_client, wait_for_workers, one site after the other as dedl-stack-client does),
          the notebook's three steps computed at the site in each dataset's attrs["location"]
          (all submitted, then gathered), shutdown
"""

import json
import resource
import sys
import time
import urllib.parse
import urllib.request

MODE = sys.argv[1]
CONFIG = json.loads(sys.stdin.readline())


def emit(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


def gateway(site):
    """A dask_gateway.Gateway that sends a Keycloak access token (password grant, renewed)."""
    from dask_gateway import Gateway
    from dask_gateway.auth import GatewayAuth

    state = {"token": None, "at": 0.0}

    def token():
        if state["token"] is None or time.monotonic() - state["at"] > 20:
            body = urllib.parse.urlencode({
                "grant_type": "password",
                "client_id": CONFIG["client_id"],
                "username": CONFIG["username"],
                "password": CONFIG["password"],
            }).encode()
            url = CONFIG["issuer"] + "/protocol/openid-connect/token"
            with urllib.request.urlopen(url, body, timeout=10) as res:
                state["token"] = json.load(res)["access_token"]
            state["at"] = time.monotonic()
        return state["token"]

    class Bearer(GatewayAuth):
        def pre_request(self, resp):
            return {"Authorization": "Bearer " + token()}, None

    return Gateway(address=site["address"], proxy_address=site["proxy_address"], auth=Bearer())


def open_mode():
    import xarray as xr

    ms, variables = [], 0
    for _ in range(CONFIG.get("repeat", 1)):
        t0 = time.perf_counter()
        ds = xr.open_zarr(CONFIG["url"])
        ms.append((time.perf_counter() - t0) * 1000)
        variables = len(ds.variables)
    emit("result", ms=ms, variables=variables)


def flood_mode():
    import xarray as xr

    t0 = time.perf_counter()
    flood_ds, rain_ds = xr.open_zarr(CONFIG["flood"]), xr.open_zarr(CONFIG["precipitation"])
    flood, flood_at = flood_ds["flood"], flood_ds.attrs["location"]
    rain, rain_at = rain_ds["precipitation"], rain_ds.attrs["location"]
    opened = time.perf_counter()
    workers = CONFIG.get("workers", 2)
    clusters, clients, gateways = {}, {}, []
    try:
        for site in dict.fromkeys([flood_at, rain_at]):
            s = CONFIG["sites"][site]
            gw = gateway(s)
            gateways.append(gw)
            cluster = gw.new_cluster(worker_cores=1, worker_memory=2)
            clusters[site] = cluster
            cluster.adapt(minimum=workers, maximum=workers)
            clients[site] = cluster.get_client(set_as_default=False)
        for client in clients.values():
            client.wait_for_workers(workers)
        started = time.perf_counter()
        steps = [
            (flood_at, flood.sum() * 20 * 20 / 1000),
            (
                flood_at,
                (flood.isel(time=-1).coarsen(x=25, y=25, boundary="trim").median() > 0)
                .astype("float32"),
            ),
            (
                rain_at,
                (rain.sel(lat=slice(31, 23), lon=slice(65, 71)).cumsum("time") * 1000)
                .isel(time=-1),
            ),
        ]
        futures = [clients[at].compute(step) for at, step in steps]
        results = [f.result() for f in futures]
        computed = time.perf_counter()
        for cluster in clusters.values():
            cluster.shutdown()
        clusters.clear()
        done = time.perf_counter()
        emit(
            "result",
            openMs=(opened - t0) * 1000,
            startMs=(started - opened) * 1000,
            computeMs=(computed - started) * 1000,
            shutdownMs=(done - computed) * 1000,
            totalMs=(done - t0) * 1000,
            area=float(results[0]),
        )
    finally:
        for cluster in clusters.values():
            cluster.shutdown()
        for gw in gateways:
            gw.close()


if __name__ == "__main__":
    {"open": open_mode, "flood": flood_mode}[MODE]()
    emit("done", peak_rss_kib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
