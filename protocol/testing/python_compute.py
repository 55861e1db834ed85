"""Computes a Dask collection with Python's own distributed.Client: the reference that
collection tests and benchmarks compare the TypeScript client with.

Usage: python python_compute.py <scheduler address> <repeat> <expression>
The expression is evaluated with `da` (dask.array), `np`, `xr` (when installed) and `operator`
in scope and must give a Dask collection; it is computed `repeat` times with
`client.compute(collection).result()`. Prints one JSON line:
{"value": <result as nested lists / number>, "seconds": [<wall time of each compute>],
 "total_seconds": [<the same plus evaluating the expression (e.g. opening the dataset)>]}.
"""

import json
import operator
import sys
import time

import dask.array as da
import numpy as np
from distributed import Client

try:
    import xarray as xr
except ImportError:  # the 2025.3 environment has no xarray
    xr = None


def plain(value):
    if xr is not None and isinstance(value, (xr.DataArray, xr.Dataset)):
        value = value.values
    return np.asarray(value).tolist()


def main() -> None:
    address, repeat, expression = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    scope = {"da": da, "np": np, "xr": xr, "operator": operator}
    with Client(address, timeout=60) as client:
        seconds, total_seconds = [], []
        value = None
        for _ in range(repeat):
            evaluating = time.perf_counter()
            collection = eval(expression, scope)  # noqa: S307 (test input only)
            started = time.perf_counter()
            value = client.compute(collection).result()
            done = time.perf_counter()
            seconds.append(done - started)
            total_seconds.append(done - evaluating)
    print(json.dumps({"value": plain(value), "seconds": seconds, "total_seconds": total_seconds}))


if __name__ == "__main__":
    main()
