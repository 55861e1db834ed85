"""What Python's own xarray says about a Zarr store, and what it computes: the reference the
dataset layer's tests compare with.

Usage: python xarray_reference.py < request.json
  {"describe": "<url or path>", "open": {<open_zarr kwargs>}}
      -> the dataset as xarray reports it: attrs; variables and coords with dims, shape, dtype,
         chunks (encoding) and attrs; 1-D coordinate values.
  {"compute": {"<name>": "<python expression>", ...}, "scope": {"<NAME>": "<url>", ...}}
      -> each expression (xr, np in scope, and the scope's names) computed with dask's own
         scheduler: dims, name, attrs, values and coords.
Arrays travel as {"dtype": numpy dtype string, "shape": [...], "b64": C-order bytes}; prints one
JSON line.
"""

import base64
import json
import sys

import numpy as np
import xarray as xr


def plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def array(values) -> dict:
    a = np.array(values, order="C")  # a copy; keeps 0-d arrays 0-d (ascontiguousarray does not)
    if a.dtype.kind == "M":
        a = a.astype("datetime64[ns]")
    return {"dtype": a.dtype.str, "shape": list(a.shape), "b64": base64.b64encode(a.tobytes()).decode()}


def variable(v: xr.DataArray, with_values: bool) -> dict:
    out = {
        "dims": list(v.dims),
        "shape": list(v.shape),
        "dtype": str(v.dtype),
        "chunks": list(v.encoding["chunks"]) if "chunks" in v.encoding else None,
        "attrs": plain(dict(v.attrs)),
    }
    if with_values and v.ndim == 1:
        out["values"] = array(v.values)
    return out


def describe(url: str, kwargs: dict) -> dict:
    ds = xr.open_zarr(url, **kwargs)
    return {
        "attrs": plain(dict(ds.attrs)),
        "variables": {k: variable(v, False) for k, v in ds.data_vars.items()},
        "coords": {k: variable(v, True) for k, v in ds.coords.items()},
    }


def computed(value) -> dict:
    value = value.compute()
    return {
        "name": value.name,
        "dims": list(value.dims),
        "attrs": plain(dict(value.attrs)),
        "values": array(value.values),
        "coords": {
            k: {"dims": list(c.dims), "values": array(c.values)} for k, c in value.coords.items()
        },
    }


def main() -> None:
    request = json.load(sys.stdin)
    if "describe" in request:
        result = describe(request["describe"], request.get("open", {}))
    else:
        scope = {"xr": xr, "np": np, **request.get("scope", {})}
        result = {
            name: computed(eval(expression, scope))  # noqa: S307 (test input only)
            for name, expression in request["compute"].items()
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
