"""Executes a notebook headless with Jupyter's own executor (nbclient), the way JupyterLab's
"Run All" does, and prints what each code cell put out as one JSON line.

Usage: python execute_notebook.py <notebook.ipynb> <kernel name> <timeout per cell, seconds>

Output: {"cells": [{"source": "...", "outputs": [...]}, ...], "error": null or "..."}; outputs are
nbformat's (stream text, display_data / execute_result MIME bundles, error with traceback). A
display updated in place (update_display_data) appears once, with its last content. The kernel
runs in the notebook's folder; a cell that raises stops the run, and its error is reported.
"""

import json
import os
import sys

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

path, kernel, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3])
nb = nbformat.read(path, as_version=4)
client = NotebookClient(
    nb,
    kernel_name=kernel,
    timeout=timeout,
    startup_timeout=120,
    resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}},
)
error = None
try:
    client.execute()
except CellExecutionError as e:
    error = str(e)
cells = [
    {"source": cell.source, "outputs": cell.get("outputs", [])}
    for cell in nb.cells
    if cell.cell_type == "code"
]
print(json.dumps({"cells": cells, "error": error}))
