"""Writes each replica site's synthetic datasets as Zarr stores.

Usage: python make_datasets.py <data root> <site> [<site> ...]
Creates <data root>/<site>/temperature.zarr (small: variable t2m) for every site, plus one large
store (>= 1 GB of float32, 128 chunks of 8 MiB, uncompressed) for the sites of LARGE, in the
style of DEDL's 2022 Pakistan flood notebook:
  central/flood.zarr          variable "flood": daily flood mask (1 = flooded 20 m pixel)
  lumi/precipitation.zarr     variable "precipitation": hourly rainfall in mm
Values differ per site (the generator is seeded by the site name and each site has its own base
temperature), so a result proves where it was read. Chunks are generated and written one at a
time (bounded memory) and uncompressed, so writing takes seconds and reading is I/O-bound.

Every store is Zarr v2 with consolidated metadata (`.zmetadata`), as DEDL's stores are: zarr 2.x
reads only v2, and over HTTP a reader cannot list a store, so it needs the consolidated metadata.
Each carries `location` (its site) and `resolution` in its attributes. Runs with zarr 2.18 and
zarr 3.x alike.
"""

import sys
import zlib
from pathlib import Path

import dask
import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr
import zarr

# The encoding key of "no compression": zarr-python 3 takes a list of compressors.
NO_COMPRESSION = {"compressors" if int(zarr.__version__.split(".")[0]) >= 3 else "compressor": None}


def write(ds: xr.Dataset, out: Path, encoding: dict | None = None) -> None:
    ds.to_zarr(out, mode="w", zarr_format=2, consolidated=True, encoding=encoding or {})


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
        attrs={
            "location": site,
            "resolution": "2 degrees",
            "title": f"Synthetic 2 m temperature at {site}",
        },
    )
    write(ds.chunk({"time": 6}), out)


def _block_rng(site: str, block_id: tuple) -> np.random.Generator:
    return np.random.default_rng([zlib.crc32(site.encode()), *block_id])


def _flood_block(block: np.ndarray, site: str, block_info=None) -> np.ndarray:
    """A flood mask: low-lying land (a smooth field) floods more as the days pass."""
    info = block_info[None]
    (t0, t1), (y0, y1), (x0, x1) = info["array-location"]
    t = np.arange(t0, t1, dtype="float32")[:, None, None]
    y = np.arange(y0, y1, dtype="float32")[None, :, None]
    x = np.arange(x0, x1, dtype="float32")[None, None, :]
    terrain = np.sin(x / 300.0) + np.cos(y / 450.0) + 0.5 * np.sin((x + y) / 120.0)
    noise = _block_rng(site, info["chunk-location"]).random(block.shape, dtype="float32")
    level = -1.2 + 0.12 * t
    return ((terrain + 0.6 * noise) < level).astype("float32")


def _rain_block(block: np.ndarray, site: str, block_info=None) -> np.ndarray:
    """Hourly rainfall in mm: a band of storms drifting east, exponentially distributed."""
    info = block_info[None]
    (t0, t1), (y0, y1), (x0, x1) = info["array-location"]
    t = np.arange(t0, t1, dtype="float32")[:, None, None]
    y = np.arange(y0, y1, dtype="float32")[None, :, None]
    x = np.arange(x0, x1, dtype="float32")[None, None, :]
    intensity = 2.0 + 1.5 * np.sin((x - 20.0 * t) / 200.0) * np.cos(y / 350.0)
    rain = _block_rng(site, info["chunk-location"]).standard_exponential(block.shape, "float32")
    return np.maximum(intensity, 0.0) * rain


def make_flood(site: str, out: Path) -> None:
    shape, chunks = (16, 4096, 4096), (2, 1024, 1024)
    time = pd.date_range("2022-08-20", periods=shape[0], freq="D")
    flood = da.zeros(shape, chunks=chunks, dtype="float32").map_blocks(
        _flood_block, site, dtype="float32"
    )
    ds = xr.Dataset(
        {"flood": (("time", "y", "x"), flood, {"units": "1", "long_name": "flood mask"})},
        coords={
            "time": time,
            "y": 3_300_000.0 - 20.0 * np.arange(shape[1]),
            "x": 6_500_000.0 + 20.0 * np.arange(shape[2]),
        },
        attrs={
            "location": site,
            "resolution": "20 m",
            "title": f"Synthetic flood extent at {site}",
            "pixel_m": 20,
        },
    )
    write(ds, out, {"flood": NO_COMPRESSION})


def make_precipitation(site: str, out: Path) -> None:
    shape, chunks = (64, 2048, 2048), (4, 512, 1024)
    time = pd.date_range("2022-08-20", periods=shape[0], freq="h")
    rain = da.zeros(shape, chunks=chunks, dtype="float32").map_blocks(
        _rain_block, site, dtype="float32"
    )
    ds = xr.Dataset(
        {"precipitation": (("time", "lat", "lon"), rain, {"units": "mm", "long_name": "rainfall"})},
        coords={
            "time": time,
            "lat": np.linspace(37.0, 23.0, shape[1]),
            "lon": np.linspace(60.0, 78.0, shape[2]),
        },
        attrs={
            "location": site,
            "resolution": "0.007 degrees",
            "title": f"Synthetic hourly rainfall at {site}",
        },
    )
    write(ds, out, {"precipitation": NO_COMPRESSION})


# The large dataset of each site: store name (= its variable) and writer.
LARGE = {"central": ("flood", make_flood), "lumi": ("precipitation", make_precipitation)}


def main() -> None:
    root = Path(sys.argv[1])
    # Two threads: chunks are generated in parallel without taking over the machine.
    dask.config.set(scheduler="threads", num_workers=2)
    for site in sys.argv[2:]:
        folder = root / site
        folder.mkdir(parents=True, exist_ok=True)
        make(site, folder / "temperature.zarr")
        if site in LARGE:
            name, writer = LARGE[site]
            writer(site, folder / f"{name}.zarr")


if __name__ == "__main__":
    main()
