/**
 * A dask array whose chunks take their time, for tests that watch a computation while it runs.
 * @module
 */
import { type Node, py } from "../graph/py.ts";

/**
 * `n` chunks that each sleep about `seconds` before yielding 1000 `true`s, concatenated. Each
 * chunk's duration differs by a millisecond: equal nodes would share one key and one chunk.
 */
export function sleepyArray(n: number, seconds: number): Node {
  const delayed = (name: string) =>
    py.call("dask.delayed", py.fn(name).global, py.kwargs({ pure: false }));
  const full = delayed("numpy.full");
  const sleep = delayed("time.sleep");
  const isNone = delayed("operator.is_");
  const chunks = Array.from({ length: n }, (_, i) =>
    py.call(
      "dask.array.from_delayed",
      py.call(full, py.tuple(1000), py.call(isNone, py.call(sleep, seconds + i / 1000), null)),
      py.tuple(1000),
      py.kwargs({ dtype: "bool" }),
    ));
  return py.call("dask.array.concatenate", chunks);
}
