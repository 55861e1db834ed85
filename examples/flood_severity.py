"""Flood severity per pixel: the flooded share of a map cell as a class.

A scientist's own few lines of Python, uploaded by examples/flood_workflow.ts with
``mc.uploadFile`` to the site's cluster and run there on the workers, chunk by chunk.
"""

import numpy as np
import xarray as xr

#: Upper bounds of the flooded share for the classes 0 (dry), 1 (minor), 2 (moderate); above the
#: last bound a cell is 3 (severe).
BOUNDS = (0.05, 0.25, 0.5)

#: Names of the classes, by number.
NAMES = ("dry", "minor", "moderate", "severe")


def classes(share):
    """The class of each flooded share (numpy); NaN (no data) stays NaN."""
    share = np.asarray(share, dtype="float64")
    out = np.digitize(share, BOUNDS).astype("float32")
    out[np.isnan(share)] = np.nan
    return out


def classify(share):
    """``classes`` over a DataArray, one task per chunk (each runs on a worker)."""
    return xr.apply_ufunc(
        classes,
        share,
        dask="parallelized",
        output_dtypes=[np.float32],
        keep_attrs=True,
    ).rename("severity")
