"""Executes a notebook headless with Jupyter's own executor (nbclient), the way JupyterLab's
"Run All" does, and prints what each code cell put out as one JSON line.

Usage: python execute_notebook.py <notebook.ipynb> <kernel name> <timeout per cell, seconds>

Output: {"cells": [{"source": "...", "outputs": [...]}, ...], "error": null or "..."}; outputs are
nbformat's (stream text, display_data / execute_result MIME bundles, error with traceback). A
display updated in place (update_display_data) appears once, with its last content. The kernel
runs in the notebook's folder; a cell that raises stops the run, and its error is reported.

Deno's kernel forwards what a cell writes to stdout from a task of its own, so a cell's last lines
can reach the IOPub channel just after the kernel said it is idle. JupyterLab shows them anyway (it
files every output under the request that caused it); nbclient stops reading at "idle" and would
drop them. LateOutputClient keeps reading the cell's own outputs for a short grace period.
"""

import json
import os
import queue
import sys

import nbformat
from nbclient import NotebookClient
from nbclient.util import ensure_async
from nbclient.exceptions import CellExecutionComplete, CellExecutionError

GRACE_SECONDS = 0.5
LATE_TYPES = {"stream", "display_data", "update_display_data", "execute_result"}


class LateOutputClient(NotebookClient):
    """nbclient 0.11.0's executor that also files outputs arriving after the cell's "idle"."""

    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
        await super()._async_poll_output_msg(parent_msg_id, cell, cell_index)
        while True:
            try:
                msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=GRACE_SECONDS))
            except queue.Empty:
                return
            if msg["parent_header"].get("msg_id") == parent_msg_id and msg["msg_type"] in LATE_TYPES:
                try:
                    self.process_message(msg, cell, cell_index)
                except CellExecutionComplete:
                    pass


path, kernel, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3])
nb = nbformat.read(path, as_version=4)
client = LateOutputClient(
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
