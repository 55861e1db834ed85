"""Writes each replica site's synthetic dataset: a small temperature field as a Zarr store.

Usage: python make_datasets.py <data root> <site> [<site> ...]
Creates <data root>/<site>/temperature.zarr. Values differ per site (the generator is seeded by
the site name and each site has its own base temperature), so a result proves where it was read.
"""

import sys
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr


def make(site: str, out: Path) -> None:
    rng = np.random.default_rng(zlib.crc32(site.encode()))
    base = 270.0 + (zlib.crc32(site.encode()) % 200) / 10.0
    time = pd.date_range("2024-01-01", periods=24, freq="D")
    lat = np.linspace(-89.0, 89.0, 90)
    lon = np.linspace(-179.0, 179.0, 180)
    seasonal = 10.0 * np.cos(np.deg2rad(lat))[None, :, None]
    noise = rng.normal(0.0, 2.0, size=(len(time), len(lat), len(lon)))
    t2m = (base + seasonal + noise).astype("float64")
    ds = xr.Dataset(
        {"t2m": (("time", "lat", "lon"), t2m, {"units": "K", "long_name": "2 m temperature"})},
        coords={"time": time, "lat": lat, "lon": lon},
        attrs={"location": site, "title": f"Synthetic 2 m temperature at {site}"},
    )
    ds.chunk({"time": 6}).to_zarr(out, mode="w", consolidated=False)


def main() -> None:
    root = Path(sys.argv[1])
    for site in sys.argv[2:]:
        out = root / site / "temperature.zarr"
        out.parent.mkdir(parents=True, exist_ok=True)
        make(site, out)


if __name__ == "__main__":
    main()
