"""Runs Python snippets for the codec golden tests (python_codec_driver.ts), one JSON line each.

Request:  {"code": "<python source>", "args": {...}}   (bytes as {"$b": base64})
Response: {"result": ...} or {"error": "<traceback>"}
The snippet sees `args` and the helpers below and sets `result`. Names it defines persist across
requests of the same process. Exits when stdin closes.
"""

import base64
import json
import pickle
import sys
import traceback

import msgpack
import numpy as np

import distributed.protocol  # noqa: F401  (registers the numpy serializers)
from distributed.protocol import dumps, loads, to_serialize
from distributed.protocol.serialize import (
    Serialize,
    Serialized,
    ToPickle,
    deserialize,
    merge_and_deserialize,
    serialize,
    serialize_and_split,
)
from distributed.protocol.utils import msgpack_opts


def decode(v):
    if isinstance(v, dict):
        if set(v) == {"$b"}:
            return base64.b64decode(v["$b"])
        if set(v) == {"$int"}:
            return int(v["$int"])
        return {k: decode(x) for k, x in v.items()}
    if isinstance(v, list):
        return [decode(x) for x in v]
    return v


def encode(v):
    if isinstance(v, (bytes, bytearray, memoryview)):
        return {"$b": base64.b64encode(bytes(v)).decode()}
    if isinstance(v, bool) or v is None or isinstance(v, (str, float)):
        return v
    if isinstance(v, int):
        return v if abs(v) < 2**53 else {"$int": str(v)}
    if isinstance(v, np.generic):
        return encode(v.item())
    if isinstance(v, (list, tuple)):
        return [encode(x) for x in v]
    if isinstance(v, dict):
        if all(isinstance(k, str) for k in v):
            return {k: encode(x) for k, x in v.items()}
        return {"$map": [[encode(k), encode(x)] for k, x in v.items()]}
    raise TypeError(f"cannot send {type(v).__name__} back to the test")


def strict_diff(a, b, path="value"):
    """Describes how `a` differs from `b` (types included: 2 != 2.0), or None when equal."""
    if type(a) is not type(b):
        return f"{path}: {type(a).__name__} {a!r} vs {type(b).__name__} {b!r}"
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return f"{path}: length {len(a)} vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            d = strict_diff(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    if isinstance(a, dict):
        if list(a) != list(b):
            return f"{path}: keys {list(a)!r} vs {list(b)!r}"
        for k in a:
            d = strict_diff(a[k], b[k], f"{path}[{k!r}]")
            if d:
                return d
        return None
    if isinstance(a, float) and a != a and b != b:
        return None
    if isinstance(a, np.ndarray):
        if a.dtype != b.dtype or a.shape != b.shape or not np.array_equal(a, b):
            return f"{path}: {a!r} vs {b!r}"
        return None
    return None if a == b else f"{path}: {a!r} vs {b!r}"


def main():
    namespace = {
        name: value
        for name, value in globals().items()
        if not name.startswith("__") and name not in ("main", "decode", "encode")
    }
    out = sys.stdout
    for line in sys.stdin:
        request = json.loads(line)
        namespace["args"] = decode(request.get("args", {}))
        namespace.pop("result", None)
        try:
            exec(request["code"], namespace)
            response = {"result": encode(namespace.get("result"))}
        except BaseException:
            response = {"error": traceback.format_exc()}
        out.write(json.dumps(response) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
