/**
 * Turns a scheduler's `task-erred` report into a {@link RemoteError}. The exception arrives as
 * a `Serialized` value whose payload is a (tblib) pickle of the Python exception, the traceback
 * as a pickled `tblib.Traceback`; both are read by the safe pickle reader, never executed.
 * @module
 */
import { RemoteError } from "../errors.ts";
import { loads } from "../codec/pickle/reader.ts";
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
      exc.args.map(String).join(", "),
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
