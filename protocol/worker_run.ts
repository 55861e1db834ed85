/**
 * `client.run(fn, ...args)`: call a function on every worker, outside any task, like Python's
 * `Client.run` — e.g. to see what a worker has installed or where it keeps its files. The
 * scheduler forwards a `run` message to each worker (`broadcast`, distributed 2023.8.0 – 2026.x);
 * the worker unpickles the function and arguments, calls it (passing itself as `dask_worker`
 * when the function has that parameter) and answers with the result or the error.
 * @module
 */
import type { ClientOps } from "./client_ops.ts";
import { InvalidArgumentError, WorkerRunError } from "./errors.ts";
import { Kwargs, PyFunction } from "./graph.ts";
import { loads } from "./pickle/reader.ts";
import { PyException } from "./pickle/python_objects.ts";
import { dumps, PyTuple, type PyValue } from "./pickle/writer.ts";
import { deserialize, Serialized } from "./serialize.ts";
import { decodeRemoteException } from "./task_error.ts";

/** Options of {@link Client.run}. */
export interface RunOptions {
  /** Only these workers (addresses). Default: every worker. */
  readonly workers?: readonly string[];
  /** Milliseconds for the whole call. Default: the client's RPC timeout. */
  readonly timeoutMs?: number;
}

/**
 * Calls `fn(*args, **kwargs)` on the workers and returns each worker's result by its address.
 * Arguments are plain values (no nodes or futures); pass keyword arguments with `py.kwargs`.
 * @throws {WorkerRunError} when the function raises on a worker (the first one that did).
 */
export async function runOnWorkers(
  ops: ClientOps,
  fn: PyFunction | string,
  args: readonly unknown[],
  options: RunOptions = {},
): Promise<Record<string, unknown>> {
  const f = typeof fn === "string" ? new PyFunction(fn) : fn;
  if (!(f instanceof PyFunction)) {
    throw new InvalidArgumentError(
      `run() needs py.fn("module.name") or its path, got ${typeof fn}`,
    );
  }
  let kwargs: Record<string, unknown> = {};
  const positional: unknown[] = [];
  for (const a of args) {
    if (a instanceof Kwargs) kwargs = { ...kwargs, ...a.values };
    else positional.push(a);
  }
  const workers = options.workers;
  if (
    workers !== undefined && (!Array.isArray(workers) || workers.some((w) => typeof w !== "string"))
  ) {
    throw new InvalidArgumentError("run(): workers must be a list of worker addresses");
  }
  const reply = await ops.call({
    op: "broadcast",
    msg: {
      op: "run",
      function: dumps(f.global),
      args: dumps(new PyTuple(positional as PyValue[])),
      kwargs: dumps(kwargs as PyValue),
      wait: true,
    },
    ...(workers ? { workers: [...workers] } : {}),
    on_error: "return_pickle",
  }, options.timeoutMs ?? ops.timeoutMs);
  const name = `${f.global.module}.${f.global.qualname}`;
  const results: Record<string, unknown> = {};
  for (const [worker, response] of entries(reply)) {
    if (response instanceof Uint8Array) {
      // The worker could not be reached: the scheduler sends the pickled exception.
      const e = safeLoads(response);
      throw new WorkerRunError(
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
      throw new WorkerRunError(worker, name, x.type, x.message, x.traceback, {
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
  if (reply !== null && typeof reply === "object" && !Array.isArray(reply)) {
    return Object.entries(reply);
  }
  return [];
}
