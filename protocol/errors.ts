/**
 * Errors raised by the Dask protocol layer: one class per condition, each with a message that
 * says what went wrong and what to do.
 * @module
 */

/** Base class of every error the protocol layer raises. */
export class DaskProtocolError extends Error {
  /** Creates the error; `message` says what went wrong and what to do. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bytes from the network could not be decoded (bad frame, msgpack, pickle, lz4 or numpy data). */
export class DecodeError extends DaskProtocolError {}

// --- connection layer and client (transports, framing, comm, RPC, futures) ---

/** An address string could not be parsed (unknown scheme, missing port or cluster name). */
export class InvalidAddressError extends DaskProtocolError {}

/** Connecting did not complete within the connect timeout. */
export class ConnectTimeoutError extends DaskProtocolError {}

/** The peer actively refused the TCP connection (nothing listens on that host and port). */
export class ConnectionRefusedError extends DaskProtocolError {}

/** Opening a connection failed for a network reason other than refusal or timeout (DNS, routing). */
export class ConnectError extends DaskProtocolError {}

/** The TLS handshake failed; the message carries the TLS library's reason. */
export class TlsHandshakeError extends DaskProtocolError {}

/**
 * A dask-gateway proxy closed the connection during the TLS handshake: it has no route for the
 * SNI name `daskgateway-<cluster>`, i.e. no running cluster of that name behind this proxy.
 */
export class GatewayClusterNotFoundError extends DaskProtocolError {
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
export class ConnectionClosedError extends DaskProtocolError {}

/** An incoming message announced more bytes than the configured maximum message size. */
export class FrameTooLargeError extends DaskProtocolError {
  /** Creates the error; the message is derived from the sizes. */
  constructor(
    /** Bytes the message announced (at least: counting stops past the limit). */
    readonly announced: number,
    /** The configured maximum message size. */
    readonly limit: number,
    options?: ErrorOptions,
  ) {
    super(
      `incoming message announces ${announced} bytes, more than the limit of ${limit} bytes; ` +
        `raise the client's maxMessageSize option if such large results are expected`,
      options,
    );
  }
}

/** The peer's handshake message was missing or malformed. */
export class HandshakeError extends DaskProtocolError {}

/** A network operation (RPC reply, handshake, registration) did not complete within its timeout. */
export class RequestTimeoutError extends DaskProtocolError {}

/** The scheduler answered an RPC with an error status (`error` or `uncaught-error`). */
export class RpcError extends DaskProtocolError {
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

/** The scheduler runs a `distributed` version this client cannot talk to. */
export class UnsupportedSchedulerVersionError extends DaskProtocolError {
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

/** The scheduler refused the client registration (`stream-start` carried an error). */
export class RegistrationError extends DaskProtocolError {}

/** A task raised an exception on a worker (or its graph could not be unpickled on the scheduler). */
export class RemoteError extends DaskProtocolError {
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
}

/** A future was cancelled (by `cancel()`, or by the scheduler, e.g. for lost dependencies). */
export class CancelledError extends DaskProtocolError {
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
export class ConnectionLostError extends DaskProtocolError {}

/** An operation was attempted on a client that has been closed. */
export class ClientClosedError extends DaskProtocolError {}

/** `result()` was called on a future after `release()`. */
export class FutureReleasedError extends DaskProtocolError {}

/** A graph could not be built from the given `py` nodes and values (unsupported value, bad name). */
export class GraphBuildError extends DaskProtocolError {}

// --- codecs (pickle, msgpack, numpy, compression, serializer families) ---

/** A value cannot be encoded for the wire (no msgpack/pickle form, too deep, cyclic, int too big). */
export class EncodeError extends DaskProtocolError {}

/**
 * The peer could not serialize a value and sent the `error` serializer instead (Python raises
 * `TypeError` here); the message carries the peer's text, e.g.
 * `"Could not serialize object of type X"`. Ask for a serializer family that can carry the type
 * (e.g. add `"pickle"` to `serializers`) or convert the value in the graph.
 */
export class RemoteSerializationError extends DaskProtocolError {}

// --- cluster operations (upload_file, worker_run, restart, published datasets) ---

/**
 * A module given to `uploadFile` cannot be used as given: the file cannot be read, or its name
 * is no importable Python module (`name.py`, or a `.zip`/`.egg` archive).
 */
export class InvalidModuleError extends DaskProtocolError {
  /** Stable identifier of the condition. */
  readonly code = "ERR_INVALID_MODULE";
  /** What sort of failure this is. */
  readonly kind = "usage" as const;
}

/** An uploaded module has a syntax error: Python could not compile it on the cluster. */
export class ModuleSyntaxError extends DaskProtocolError {
  /** Stable identifier of the condition. */
  readonly code = "ERR_MODULE_SYNTAX";
  /** What sort of failure this is. */
  readonly kind = "usage" as const;

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
    const source = text.replace(/\n$/, "");
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
export class ModuleImportError extends DaskProtocolError {
  /** Stable identifier of the condition. */
  readonly code = "ERR_MODULE_IMPORT";
  /** What sort of failure this is. */
  readonly kind = "remote" as const;

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

/** A function called with `client.run` raised on a worker. */
export class WorkerRunError extends DaskProtocolError {
  /** Stable identifier of the condition. */
  readonly code = "ERR_WORKER_RUN";
  /** What sort of failure this is. */
  readonly kind = "remote" as const;

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
export class RestartError extends DaskProtocolError {
  /** Stable identifier of the condition. */
  readonly code = "ERR_RESTART";
  /** What sort of failure this is. */
  readonly kind = "remote" as const;
}

/** No dataset of that name is published on the scheduler. */
export class DatasetNotFoundError extends DaskProtocolError {
  /** Stable identifier of the condition. */
  readonly code = "ERR_DATASET_NOT_FOUND";
  /** What sort of failure this is. */
  readonly kind = "usage" as const;

  /** Creates the error for `dataset`; `published` are the names that exist. */
  constructor(readonly dataset: string, published: readonly string[], options?: ErrorOptions) {
    super(
      `no dataset ${JSON.stringify(dataset)} is published on this scheduler; published: ${
        published.length > 0 ? published.map((n) => JSON.stringify(n)).join(", ") : "(none)"
      }`,
      options,
    );
  }
}

/** A dataset of that name is already published (and `override` was not set). */
export class DatasetExistsError extends DaskProtocolError {
  /** Stable identifier of the condition. */
  readonly code = "ERR_DATASET_EXISTS";
  /** What sort of failure this is. */
  readonly kind = "usage" as const;

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
export class InvalidArgumentError extends DaskProtocolError {
  /** Stable identifier of the condition. */
  readonly code = "ERR_INVALID_ARGUMENT";
  /** What sort of failure this is. */
  readonly kind = "usage" as const;
}
