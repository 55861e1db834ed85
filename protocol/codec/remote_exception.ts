/**
 * A Python exception as the cluster reports it: a `task-erred` report, or the `error_message`
 * of an RPC or broadcast reply (`{status: "error", exception, traceback, …}`). The exception
 * arrives as a `Serialized` value whose payload is a (tblib) pickle of the Python exception, the
 * traceback as a pickled `tblib.Traceback`; both are read by the safe pickle reader, never
 * executed.
 * @module
 */
import { loads } from "./pickle/reader.ts";
import { exceptionMessage, objectLabel } from "./pickle/revive.ts";
import { PyException, PyObject } from "./pickle/python_objects.ts";
import { deserialize, Serialized } from "./serialize.ts";

/** A Python exception as far as the client could read it. */
export interface RemoteException {
  /** Python exception class name, e.g. `"ZeroDivisionError"`. */
  readonly type: string;
  /** Python module of the exception class. */
  readonly module: string;
  /** `str(exc)`. */
  readonly message: string;
  /** The remote traceback, formatted like Python's (may be empty). */
  readonly traceback: string;
  /** The revived exception (its `args` and attributes), when it was readable as one. */
  readonly exception?: PyException;
  /** Why the exception could not be read, when it could not. */
  readonly decodeError?: unknown;
}

/** Reads an `exception` / `traceback` pair as the cluster sends it (never throws). */
export function decodeRemoteException(exception: unknown, traceback: unknown): RemoteException {
  let exc: unknown;
  let tb: unknown;
  try {
    exc = unwrap(exception);
    tb = unwrap(traceback);
  } catch (e) {
    return {
      type: "UndecodableError",
      module: "",
      message: `the exception could not be decoded: ${e}`,
      traceback: "",
      decodeError: e,
    };
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
      return {
        type: root.type,
        module: root.module,
        message: `the scheduler could not load the task graph: ${root.message} (the module ` +
          "must be installed on the cluster, or uploaded with client.uploadFile)",
        traceback: [root.traceback, tracebackText].filter(Boolean).join("\n"),
        exception: exc,
      };
    }
    return {
      type: exc.type,
      module: exc.module,
      message: exc.message,
      traceback: tracebackText,
      exception: exc,
    };
  }
  if (exc instanceof PyObject) {
    // An exception class the reader does not know as one: report what it was called with.
    return {
      type: exc.name,
      module: exc.module,
      message: knownMessage(exc) ?? exceptionMessage(exc.name, exc.args),
      traceback: tracebackText,
    };
  }
  return {
    type: "Exception",
    module: "builtins",
    message: String(exc ?? ""),
    traceback: tracebackText,
  };
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

/**
 * The text Dask's own `__str__` gives exceptions that arrive as plain objects, for those whose
 * arguments alone say little: `KilledWorker(task, last_worker, allowed_failures)`.
 */
function knownMessage(exc: PyObject): string | undefined {
  if (exc.module === "distributed.scheduler" && exc.name === "KilledWorker") {
    const [task, worker, failures] = exc.args;
    const address = worker instanceof PyObject ? objectLabel(worker) : undefined;
    return `attempted to run task ${String(task)} on ${String(failures)} different workers, ` +
      "but all those workers died while running it" +
      (address ? `; the last one was ${address}` : "") +
      ". Its workers' logs tell why (memory limit, a crash in native code, os._exit)";
  }
  return undefined;
}
