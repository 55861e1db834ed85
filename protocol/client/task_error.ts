/**
 * Turns a scheduler's `task-erred` report into a {@link RemoteError}. The exception arrives as
 * a `Serialized` value whose payload is a (tblib) pickle of the Python exception, the traceback
 * as a pickled `tblib.Traceback`; both are read by the safe pickle reader, never executed.
 * @module
 */
import { RemoteError } from "../errors.ts";
import { loads } from "../codec/pickle/reader.ts";
import { exceptionMessage } from "../codec/pickle/revive.ts";
import { PyException, PyObject } from "../codec/pickle/python_objects.ts";
import { deserialize, Serialized } from "../codec/serialize.ts";

/** Builds the error a future of `key` rejects with, from `task-erred`'s fields. */
export function taskErredToRemoteError(
  key: string,
  exception: unknown,
  traceback: unknown,
): RemoteError {
  let exc: unknown;
  let tb: unknown;
  try {
    exc = unwrap(exception);
    tb = unwrap(traceback);
  } catch (e) {
    return new RemoteError(
      key,
      "UndecodableError",
      "",
      `the task failed, but its exception could not be decoded: ${e}`,
      "",
      { cause: e },
    );
  }
  const tracebackText = typeof tb === "string"
    ? tb
    : exc instanceof PyException
    ? exc.traceback ?? ""
    : "";
  if (exc instanceof PyException) {
    const root = graphLoadCause(exc);
    if (root) {
      // The scheduler's RuntimeError hides what went wrong: a module or name the scheduler
      // cannot import, or a class it cannot unpickle. Report that, keeping the whole chain.
      return new RemoteError(
        key,
        root.type,
        root.module,
        `the scheduler could not load the task graph: ${root.message} (the module must be ` +
          "installed on the cluster, or uploaded with client.uploadFile)",
        [root.traceback, tracebackText].filter(Boolean).join("\n"),
        { cause: exc },
      );
    }
    return new RemoteError(key, exc.type, exc.module, exc.message, tracebackText, {
      cause: exc,
    });
  }
  if (exc instanceof PyObject) {
    // An exception class the reader does not know as one: report what it was called with.
    return new RemoteError(
      key,
      exc.name,
      exc.module,
      exceptionMessage(exc.name, exc.args),
      tracebackText,
    );
  }
  return new RemoteError(key, "Exception", "builtins", String(exc ?? ""), tracebackText);
}

/** Deserializes a `Serialized` and unpickles bytes payloads (the `dask` bytes wrapper). */
function unwrap(value: unknown): unknown {
  let v = value instanceof Serialized ? deserialize(value) : value;
  if (v instanceof Uint8Array) v = loads(v);
  return v;
}

/** The scheduler's wording when unpickling a submitted graph fails (every release since 2023.4). */
const GRAPH_LOAD_FAILED = "Error during deserialization of the task graph";

/** The exception behind a failed graph load (its `__cause__`), if `exc` is one. */
function graphLoadCause(exc: PyException): PyException | undefined {
  if (exc.type !== "RuntimeError" || !exc.message.includes(GRAPH_LOAD_FAILED)) return undefined;
  return exc.cause ?? exc.context;
}
