"""Writes small Zarr stores that exercise what openDataset must read like xarray does.

Usage: python make_test_stores.py <folder>
Writes, in <folder>:
  v2_consolidated.zarr  Zarr v2 with .zmetadata
  v2_plain.zarr         Zarr v2 without consolidated metadata (readers must list it)
  v3_consolidated.zarr  Zarr v3 with zarr-python's inline consolidated metadata  (zarr >= 3)
  v3_plain.zarr         Zarr v3 without it                                          (zarr >= 3)
  no_location.zarr      Zarr v2, consolidated, without a `location` attribute
Each (but the last) holds: float32 `t2m` (time, lat, lon) with units; int16 `quality` with a fill
value (xarray masks it and reports float32); packed int16 `wind` (scale_factor/add_offset,
float64); hourly `time`; descending `lat`; `lon`; a non-dimension coordinate `height` named by
the CF `coordinates` attribute; a compressed coordinate (`lon`, Blosc via zarr's default).
Prints the names written, one per line.
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
import zarr


def dataset(location: str | None) -> xr.Dataset:
    rng = np.random.default_rng(7)
    time = pd.date_range("2022-08-20T06:00", periods=6, freq="h")
    lat = np.linspace(31.0, 23.0, 5)
    lon = np.linspace(65.0, 71.0, 8)
    attrs = {"title": "test store", "resolution": "1 degree", "levels": [1, 2, 3]}
    if location:
        attrs["location"] = location
    ds = xr.Dataset(
        {
            "t2m": (("time", "lat", "lon"), rng.normal(290, 3, (6, 5, 8)).astype("f4"),
                    {"units": "K", "long_name": "2 m temperature"}),
            "quality": (("lat", "lon"), rng.integers(0, 5, (5, 8)).astype("i2"),
                        {"long_name": "quality flag"}),
            "wind": (("time", "lat", "lon"), rng.normal(5, 2, (6, 5, 8)), {"units": "m s-1"}),
        },
        coords={"time": time, "lat": lat, "lon": lon, "height": ((), 2.0, {"units": "m"})},
        attrs=attrs,
    )
    ds["quality"].encoding = {"_FillValue": np.int16(-1)}
    ds["wind"].encoding = {"dtype": "i2", "scale_factor": 0.01, "add_offset": 5.0,
                           "_FillValue": np.int16(-32768)}
    return ds.chunk({"time": 2, "lat": 5, "lon": 4})


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    ds = dataset("central")
    ds.to_zarr(out / "v2_consolidated.zarr", mode="w", zarr_format=2, consolidated=True)
    ds.to_zarr(out / "v2_plain.zarr", mode="w", zarr_format=2, consolidated=False)
    dataset(None).to_zarr(out / "no_location.zarr", mode="w", zarr_format=2, consolidated=True)
    names = ["v2_consolidated.zarr", "v2_plain.zarr", "no_location.zarr"]
    if int(zarr.__version__.split(".")[0]) >= 3:
        ds.to_zarr(out / "v3_consolidated.zarr", mode="w", zarr_format=3, consolidated=True)
        ds.to_zarr(out / "v3_plain.zarr", mode="w", zarr_format=3, consolidated=False)
        names += ["v3_consolidated.zarr", "v3_plain.zarr"]
    print("\n".join(names))


if __name__ == "__main__":
    main()
