/**
 * Errors raised by the Dask protocol layer: one class per condition, each with a stable `code`,
 * a `kind`, and a message that says what went wrong and what to do. All extend
 * {@link DaskProtocolError}, itself a `DedlDaskError`. The codes are listed in `docs/errors.md`.
 * @module
 */
import { DedlDaskError, escapeHtml, JUPYTER_DISPLAY, type MimeBundle } from "../base/mod.ts";

/** The category of every error the protocol layer raises; catch it for "the Dask side failed". */
export abstract class DaskProtocolError extends DedlDaskError {}

// --- codecs (pickle, msgpack, numpy, compression, serializer families) ---

/** Bytes from the network could not be decoded (bad frame, msgpack, pickle, lz4 or numpy data). */
export class DecodeFailed extends DaskProtocolError {
  /** Stable code of the condition. */
  readonly code: string = "ERR_DECODE_FAILED";
  /** Kind of failure. */
  readonly kind = "protocol";
}

/**
 * A zlib frame arrived before the zlib codec was loaded. The comm answers it by loading zlib and
 * decoding the message again, so it never reaches a caller of the client.
 */
export class ZlibNotLoaded extends DecodeFailed {
  /** Stable code of the condition. */
  override readonly code = "ERR_ZLIB_NOT_LOADED";

  /** Creates the error; the message says to load the codec first. */
  constructor() {
    super(
      "a zlib-compressed frame arrived before the zlib codec was loaded; call loadZlib() first",
    );
  }
}

/** A value cannot be encoded for the wire (no msgpack/pickle form, too deep, cyclic, int too big). */
export class EncodeFailed extends DaskProtocolError {
  /** Stable code of the condition. */
  readonly code = "ERR_ENCODE_FAILED";
  /** Kind of failure. */
  readonly kind = "usage";
}

/**
 * The peer could not serialize a value and sent the `error` serializer instead (Python raises
 * `TypeError` here); the message carries the peer's text, e.g.
 * `"Could not serialize object of type X"`. Ask for a serializer family that can carry the type
 * (e.g. add `"pickle"` to `serializers`) or convert the value in the graph.
 */
export class RemoteSerializationFailed extends DaskProtocolError {
  /** Stable code of the condition. */
  readonly code = "ERR_REMOTE_SERIALIZATION_FAILED";
  /** Kind of failure. */
  readonly kind = "remote";
  /** The Python exception that made serialization fail, e.g. `"TypeError"` (`""` if unknown). */
  readonly pythonType: string;
  /** Its message, e.g. `cannot pickle '_thread.lock' object`. */
  readonly pythonMessage: string;

  /** Creates the error from the peer's text (its message and traceback). */
  constructor(
    /** The peer's own text: `Could not serialize object of type X` and the traceback. */
    readonly details: string,
    /** The key whose value it was, when known. */
    readonly key?: string,
    options?: ErrorOptions,
  ) {
    const cause = firstPythonException(details);
    const what = key ? `the value of ${key}` : "a value";
    super(
      `the worker could not serialize ${what}` +
        (cause ? `: ${cause.type}: ${cause.message}` : `: ${details.split("\n")[0]}`) +
        "; return a value that pickles (convert it inside the task, e.g. to numpy or plain data)",
      options,
    );
    this.pythonType = cause?.type ?? "";
    this.pythonMessage = cause?.message ?? details.split("\n")[0];
  }
}

/** The first `Type: message` line of a Python traceback text (the exception that started it). */
function firstPythonException(text: string): { type: string; message: string } | undefined {
  for (const line of text.split("\n")) {
    const m = /^([A-Za-z_][\w.]*(?:Error|Exception|Warning)): (.*)$/.exec(line);
    if (m) return { type: m[1], message: m[2] };
  }
  return undefined;
}

/**
 * An `NDArray` cannot be made as asked: unsupported or big-endian dtype, data of another typed
 * array kind, a shape or strides that do not fit the data, or an index out of bounds.
 */
export class InvalidArray extends DaskProtocolError {
  /** Stable code of the condition. */
  readonly code = "ERR_INVALID_ARRAY";
  /** Kind of failure. */
  readonly kind = "usage";
}

// --- connections (transports, framing, comm, RPC) ---

/** An address string could not be parsed (unknown scheme, missing port or cluster name). */
export class InvalidAddress extends DaskProtocolError {
  /** Stable code of the condition. */
  readonly code = "ERR_INVALID_ADDRESS";
  /** Kind of failure. */
  readonly kind = "usage";
}

/** Connecting did not complete within the connect timeout. */
export class ConnectTimeout extends DaskProtocolError {
  /** Stable code of the condition. */
  readonly code = "ERR_CONNECT_TIMEOUT";
  /** Kind of failure. */
  readonly kind = "timeout";
}

/** The peer actively refused the TCP connection (nothing listens on that host and port). */
export class ConnectionRefused extends DaskProtocolError {
  /** Stable code of the condition. */
  readonly code = "ERR_CONNECTION_REFUSED";
  /** Kind of failure. */
  readonly kind = "unavailable";
}

/** Opening a connection failed for a network reason other than refusal or timeout (DNS, routing). */
export class ConnectFailed extends DaskProtocolError {
  /** Stable code of the condition. */
  readonly code = "ERR_CONNECT_FAILED";
  /** Kind of failure. */
  readonly kind = "unavailable";
}

/**
 * The TLS handshake failed: one side did not accept the other's certificate (Dask's TLS is
 * mutual), or the peer does not speak TLS. The message carries the TLS library's reason.
 */
export class TlsHandshakeFailed extends DaskProtocolError {
  /** Stable code of the condition. */
  readonly code = "ERR_TLS_HANDSHAKE_FAILED";
  /** Kind of failure. */
  readonly kind = "auth";
}

/**
 * A dask-gateway proxy closed the connection during the TLS handshake: it has no route for the
 * SNI name `daskgateway-<cluster>`, i.e. no running cluster of that name behind this proxy.
 */
export class GatewayClusterNotFound extends DaskProtocolError {
  /** Stable code of the condition. */
  readonly code = "ERR_GATEWAY_CLUSTER_NOT_FOUND";
  /** Kind of failure. */
  readonly kind = "unavailable";

  /** Creates the error for `clusterName`. */
  constructor(
    /** The cluster name that was looked up (without the SNI prefix). */
    readonly clusterName: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The connection was closed (by the peer or locally) while data was still expected or being sent. */
export class ConnectionClosed extends DaskProtocolError {
  /** Stable code of the condition. */
  readonly code = "ERR_CONNECTION_CLOSED";
  /** Kind of failure. */
  readonly kind = "unavailable";
}

/** An incoming message announced more bytes than the configured maximum message size. */
export class FrameTooLarge extends DaskProtocolError {
  /** Stable code of the condition. */
  readonly code = "ERR_FRAME_TOO_LARGE";
  /** Kind of failure. */
  readonly kind = "protocol";

  /** Creates the error; the message is derived from the sizes. */
  constructor(
    /** Bytes the message announced (at least: counting stops past the limit). */
    readonly announced: number,
    /** The configured maximum message size. */
    readonly limit: number,
    options?: ErrorOptions,
    /** The 8 bytes that announced it, to tell a peer that speaks another protocol. */
    readonly head?: Uint8Array,
  ) {
    super(
      `incoming message announces ${announced} bytes, more than the limit of ${limit} bytes; ` +
        `raise the client's maxMessageSize option if such large results are expected`,
      options,
    );
  }
}

/** The peer's Dask handshake message was missing or malformed. */
export class HandshakeFailed extends DaskProtocolError {
  /** Stable code of the condition. */
  readonly code = "ERR_HANDSHAKE_FAILED";
  /** Kind of failure. */
  readonly kind = "protocol";
}

/**
 * A network operation (RPC reply, handshake, registration, a result) did not complete within its
 * timeout.
 */
export class RequestTimeout extends DaskProtocolError {
  /** Stable code of the condition. */
  readonly code = "ERR_REQUEST_TIMEOUT";
  /** Kind of failure. */
  readonly kind = "timeout";
}

/** The scheduler answered an RPC with an error status (`error` or `uncaught-error`). */
export class RpcFailed extends DaskProtocolError {
  /** Stable code of the condition. */
  readonly code = "ERR_RPC_FAILED";
  /** Kind of failure. */
  readonly kind = "remote";

  /** Creates the error from the scheduler's error reply. */
  constructor(
    /** The RPC operation, e.g. `"gather"`. */
    readonly op: string,
    /** The scheduler's `exception_text`. */
    readonly exceptionText: string,
    /** The scheduler's `traceback_text`. */
    readonly tracebackText: string,
    options?: ErrorOptions,
  ) {
    super(`scheduler RPC "${op}" failed: ${exceptionText}`, options);
  }
}

/** The scheduler answered an RPC with a reply of a shape this client does not know. */
export class UnexpectedReply extends DaskProtocolError {
  /** Stable code of the condition. */
  readonly code = "ERR_UNEXPECTED_REPLY";
  /** Kind of failure. */
  readonly kind = "protocol";
}

// --- the client (registration, futures, graphs) ---

/** The scheduler runs a `distributed` version this client cannot talk to. */
export class UnsupportedSchedulerVersion extends DaskProtocolError {
  /** Stable code of the condition. */
  readonly code = "ERR_UNSUPPORTED_SCHEDULER_VERSION";
  /** Kind of failure. */
  readonly kind = "protocol";

  /** Creates the error; the message names the version and the supported range. */
  constructor(
    /** The `distributed` version the scheduler reported. */
    readonly version: string,
    /** The supported range, in words. */
    readonly supported: string,
    options?: ErrorOptions,
  ) {
    super(
      `scheduler runs distributed ${version}, but this client supports ${supported}; ` +
        `connect to a scheduler of a supported version`,
      options,
    );
  }
}

/**
 * The scheduler refused the client's registration (`stream-start` carried an error) or did not
 * confirm it with `stream-start`.
 */
export class RegistrationRefused extends DaskProtocolError {
  /** Stable code of the condition. */
  readonly code = "ERR_REGISTRATION_REFUSED";
  /** Kind of failure. */
  readonly kind = "protocol";
}

/** A task raised an exception on a worker (or its graph could not be unpickled on the scheduler). */
export class RemoteError extends DaskProtocolError {
  /** Stable code of the condition. */
  readonly code = "ERR_REMOTE_TASK";
  /** Kind of failure. */
  readonly kind = "remote";

  /** Built by the client from the scheduler's `task-erred` report. */
  constructor(
    /** Key of the failed task. */
    readonly key: string,
    /** Python exception class name, e.g. `"ZeroDivisionError"`. */
    readonly type: string,
    /** Python module of the exception class, e.g. `"builtins"`. */
    readonly module: string,
    /** The exception message (`str(exc)`). */
    readonly pythonMessage: string,
    /** The remote traceback, formatted like Python's (may be empty). */
    readonly traceback: string,
    options?: ErrorOptions,
  ) {
    super(
      `task ${key} failed with ${type}: ${pythonMessage}` + (traceback ? `\n${traceback}` : ""),
      options,
    );
  }

  /** In a Deno Jupyter notebook: the failed task, the Python exception and its traceback. */
  [JUPYTER_DISPLAY](): MimeBundle {
    const head = `${
      this.module && this.module !== "builtins" ? `${this.module}.` : ""
    }${this.type}`;
    return {
      "text/plain": `RemoteError: ${this.message}`,
      "text/html": `<div style="border-left:4px solid #e53935;padding:4px 8px">` +
        `<b>RemoteError</b>: task <code>${escapeHtml(this.key)}</code> failed<br>` +
        `<b style="color:#c62828">${escapeHtml(head)}</b>: ${escapeHtml(this.pythonMessage)}` +
        (this.traceback
          ? `<pre style="margin:4px 0 0 0">Traceback (on the worker):\n${
            escapeHtml(this.traceback)
          }</pre>`
          : "") +
        `</div>`,
    };
  }
}

/** A future was cancelled (by `cancel()`, or by the scheduler, e.g. for lost dependencies). */
export class TaskCancelled extends DaskProtocolError {
  /** Stable code of the condition. */
  readonly code = "ERR_TASK_CANCELLED";
  /** Kind of failure. */
  readonly kind = "cancelled";

  /** Creates the error for `key`. */
  constructor(
    /** The cancelled key. */
    readonly key: string,
    /** Why, as the client or scheduler said it. */
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`task ${key} was cancelled${reason ? `: ${reason}` : ""}`, options);
  }
}

/** The connection to the scheduler was lost; every pending future is rejected with this error. */
export class ConnectionLost extends DaskProtocolError {
  /** Stable code of the condition. */
  readonly code = "ERR_CONNECTION_LOST";
  /** Kind of failure. */
  readonly kind = "unavailable";
}

/**
 * The client was closed: pending futures reject with this error, and so does any later
 * operation on the client.
 */
export class ClientClosed extends DaskProtocolError {
  /** Stable code of the condition. */
  readonly code = "ERR_CLIENT_CLOSED";
  /** Kind of failure. */
  readonly kind = "cancelled";
}

/** `result()` was called on a future after `release()`. */
export class FutureReleased extends DaskProtocolError {
  /** Stable code of the condition. */
  readonly code = "ERR_FUTURE_RELEASED";
  /** Kind of failure. */
  readonly kind = "usage";
}

/**
 * A graph could not be built from the given `py` nodes and values (a value without a Python
 * equivalent, a bad name, invalid task options, a future of another client).
 */
export class GraphBuildFailed extends DaskProtocolError {
  /** Stable code of the condition. */
  readonly code = "ERR_GRAPH_BUILD_FAILED";
  /** Kind of failure. */
  readonly kind = "usage";
}

/**
 * The task graph a worker built for a `py.collection(...)` cannot be used: not `(bytes, keys)`,
 * no output key, a non-string key, or more than one output.
 */
export class InvalidCollectionGraph extends DaskProtocolError {
  /** Stable code of the condition. */
  readonly code = "ERR_INVALID_COLLECTION_GRAPH";
  /** Kind of failure. */
  readonly kind = "usage";
}

/** Computed keys could not be fetched: the workers holding them went away, retries included. */
export class DataLost extends DaskProtocolError {
  /** Stable code of the condition. */
  readonly code = "ERR_DATA_LOST";
  /** Kind of failure. */
  readonly kind = "unavailable";
}

// --- cluster operations (uploaded modules, run, restart, published datasets) ---

/**
 * A module given to `uploadFile` cannot be used as given: the file cannot be read or fetched, or
 * its name is no importable Python module (`name.py`, or a `.zip`/`.egg` archive).
 */
export class InvalidModule extends DaskProtocolError {
  /** Stable code of the condition. */
  readonly code = "ERR_INVALID_MODULE";
  /** Kind of failure. */
  readonly kind = "usage";
}

/** An uploaded module has a syntax error: Python could not compile it on the cluster. */
export class InvalidModuleSyntax extends DaskProtocolError {
  /** Stable code of the condition. */
  readonly code = "ERR_INVALID_MODULE_SYNTAX";
  /** Kind of failure. */
  readonly kind = "usage";

  /** Creates the error; the message names the file, the line and the offending text. */
  constructor(
    /** The module as the caller named it (the path given, or `name`). */
    readonly file: string,
    /** Line of the error, from 1 (0 when Python did not say). */
    readonly line: number,
    /** Column of the error, from 1 (0 when Python did not say). */
    readonly column: number,
    /** The offending source line (may be empty). */
    readonly text: string,
    /** Python's description, e.g. `"expected ':'"`. */
    readonly pythonMessage: string,
    options?: ErrorOptions,
  ) {
    const source = (text ?? "").replace(/\n$/, "");
    const caret = source && column > 0 ? `\n    ${" ".repeat(column - 1)}^` : "";
    super(
      `${file}, line ${line}: SyntaxError: ${pythonMessage}` +
        (source ? `\n    ${source}${caret}` : "") +
        `\nfix the module and upload it again`,
      options,
    );
  }
}

/**
 * An uploaded module could not be imported on the cluster (e.g. it imports a package the
 * cluster does not have, or raises at import time). Nothing of the upload stays registered.
 */
export class ModuleImportFailed extends DaskProtocolError {
  /** Stable code of the condition. */
  readonly code = "ERR_MODULE_IMPORT_FAILED";
  /** Kind of failure. */
  readonly kind = "remote";

  /** Creates the error from the Python exception raised while importing. */
  constructor(
    /** The module as the caller named it. */
    readonly file: string,
    /** Where the import failed: `"the scheduler"` or `"worker tcp://…"`. */
    readonly where: string,
    /** Python exception class name, e.g. `"ModuleNotFoundError"`. */
    readonly type: string,
    /** The exception message. */
    readonly pythonMessage: string,
    /** The remote traceback (may be empty). */
    readonly traceback: string,
    options?: ErrorOptions,
  ) {
    super(
      `importing ${file} failed on ${where} with ${type}: ${pythonMessage}` +
        (traceback ? `\n${traceback}` : ""),
      options,
    );
  }
}

/** A function called with `client.run` raised on a worker, or the worker could not be reached. */
export class WorkerRunFailed extends DaskProtocolError {
  /** Stable code of the condition. */
  readonly code = "ERR_WORKER_RUN_FAILED";
  /** Kind of failure. */
  readonly kind = "remote";

  /** Creates the error from the worker's reply. */
  constructor(
    /** The worker that failed (the first one, when several did). */
    readonly worker: string,
    /** The function called, as `module.name`. */
    readonly fn: string,
    /** Python exception class name. */
    readonly type: string,
    /** The exception message. */
    readonly pythonMessage: string,
    /** The remote traceback (may be empty). */
    readonly traceback: string,
    options?: ErrorOptions,
  ) {
    super(
      `${fn} failed on worker ${worker} with ${type}: ${pythonMessage}` +
        (traceback ? `\n${traceback}` : ""),
      options,
    );
  }
}

/** `client.restart()` did not bring the workers back (e.g. workers without a nanny). */
export class RestartFailed extends DaskProtocolError {
  /** Stable code of the condition. */
  readonly code = "ERR_RESTART_FAILED";
  /** Kind of failure. */
  readonly kind = "remote";
}

/** No dataset of that name is published on the scheduler. */
export class PublishedDatasetNotFound extends DaskProtocolError {
  /** Stable code of the condition. */
  readonly code = "ERR_PUBLISHED_DATASET_NOT_FOUND";
  /** Kind of failure. */
  readonly kind = "usage";

  /** Creates the error for `dataset`; `published` are the names that exist. */
  constructor(readonly dataset: string, published: readonly string[], options?: ErrorOptions) {
    const names = Array.isArray(published) ? published : [];
    super(
      `no dataset ${JSON.stringify(dataset)} is published on this scheduler; published: ${
        names.length > 0 ? names.map((n) => JSON.stringify(n)).join(", ") : "(none)"
      }`,
      options,
    );
  }
}

/** A dataset of that name is already published (and `override` was not set). */
export class PublishedDatasetExists extends DaskProtocolError {
  /** Stable code of the condition. */
  readonly code = "ERR_PUBLISHED_DATASET_EXISTS";
  /** Kind of failure. */
  readonly kind = "usage";

  /** Creates the error for `dataset`. */
  constructor(readonly dataset: string, options?: ErrorOptions) {
    super(
      `a dataset ${JSON.stringify(dataset)} is already published; unpublish it first or pass ` +
        `{ override: true }`,
      options,
    );
  }
}

/** An argument or option of a cluster operation is invalid (the message names it). */
export class InvalidArgument extends DaskProtocolError {
  /** Stable code of the condition. */
  readonly code = "ERR_INVALID_ARGUMENT";
  /** Kind of failure. */
  readonly kind = "usage";
}
