/**
 * `client.run(fn, ...args)`: call a function on every worker, outside any task, like Python's
 * `Client.run` — e.g. to see what a worker has installed or where it keeps its files. The
 * scheduler forwards a `run` message to each worker (`broadcast`, distributed 2023.8.0 – 2026.x);
 * the worker unpickles the function and arguments, calls it (passing itself as `dask_worker`
 * when the function has that parameter) and answers with the result or the error.
 * @module
 */
import { isPlainObject } from "../../base/mod.ts";
import { loads } from "../codec/pickle/reader.ts";
import { PyException } from "../codec/pickle/python_objects.ts";
import { PyTuple, type PyValue } from "../codec/pickle/python_values.ts";
import { dumps } from "../codec/pickle/writer.ts";
import { decodeRemoteException } from "../codec/remote_exception.ts";
import { deserialize, Serialized } from "../codec/serialize.ts";
import { InvalidArgument, WorkerRunFailed } from "../errors.ts";
import { Kwargs, PyFunction } from "../graph/py.ts";
import type { ClientContext } from "./client_context.ts";

/**
 * Calls `fn(*args, **kwargs)` on the workers and returns each worker's result by its address.
 * Arguments are plain values (no nodes or futures); pass keyword arguments with `py.kwargs`.
 * @throws {WorkerRunFailed} when the function raises on a worker (the first one that did).
 */
export async function runOnWorkers(
  ctx: ClientContext,
  fn: PyFunction | string,
  args: readonly unknown[],
): Promise<Record<string, unknown>> {
  const f = typeof fn === "string" ? new PyFunction(fn) : fn;
  if (!(f instanceof PyFunction)) {
    throw new InvalidArgument(
      `run() needs py.fn("module.name") or its path, got ${typeof fn}`,
    );
  }
  let kwargs: Record<string, unknown> = {};
  const positional: unknown[] = [];
  for (const a of args) {
    if (a instanceof Kwargs) kwargs = { ...kwargs, ...a.values };
    else positional.push(a);
  }
  const reply = await ctx.call({
    op: "broadcast",
    msg: {
      op: "run",
      function: dumps(f.global),
      args: dumps(new PyTuple(positional as PyValue[])),
      kwargs: dumps(kwargs as PyValue),
      wait: true,
    },
    on_error: "return_pickle",
  }, ctx.timeoutMs);
  const name = `${f.global.module}.${f.global.qualname}`;
  const results: Record<string, unknown> = {};
  for (const [worker, response] of entries(reply)) {
    if (response instanceof Uint8Array) {
      // The worker could not be reached: the scheduler sends the pickled exception.
      const e = safeLoads(response);
      throw new WorkerRunFailed(
        worker,
        name,
        e instanceof PyException ? e.type : "CommError",
        e instanceof PyException ? e.message : "the worker could not be reached",
        "",
      );
    }
    const r = response as Record<string, unknown>;
    if (r?.status === "error") {
      const x = decodeRemoteException(r.exception, r.traceback);
      throw new WorkerRunFailed(worker, name, x.type, x.message, x.traceback, {
        cause: x.exception,
      });
    }
    results[worker] = r?.result instanceof Serialized ? deserialize(r.result) : r?.result;
  }
  return results;
}

function safeLoads(bytes: Uint8Array): unknown {
  try {
    return loads(bytes);
  } catch {
    return undefined;
  }
}

/** A scheduler reply keyed by worker address (a dict, or a Map for non-string keys). */
export function entries(reply: unknown): [string, unknown][] {
  if (reply instanceof Map) return [...reply].map(([k, v]) => [String(k), v]);
  if (isPlainObject(reply)) return Object.entries(reply);
  return [];
}
