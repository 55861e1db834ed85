/**
 * The root of every error dedl-dask raises: each has a stable `code` (a string that never
 * changes, for programs to branch on) and a `kind` (what sort of failure it is, for policy such
 * as retries or the CLI's exit codes). Catch `DedlDaskError` for "anything from dedl-dask".
 * @module
 */

/**
 * What sort of failure an error is:
 * - `usage`: the caller asked for something invalid (bad argument, option, address, state).
 * - `auth`: logging in failed or a credential was refused.
 * - `unavailable`: a peer (gateway, scheduler, identity provider) could not be reached or went
 *   away.
 * - `remote`: the work failed where it ran (a Python exception, a cluster that failed to start).
 * - `cancelled`: the work was cancelled (by the client, the scheduler or a restart).
 * - `protocol`: a peer answered with something this client does not understand.
 * - `timeout`: a bounded wait ran out.
 */
export type ErrorKind =
  | "usage"
  | "auth"
  | "unavailable"
  | "remote"
  | "cancelled"
  | "protocol"
  | "timeout";

/** Base class of every dedl-dask error. */
export abstract class DedlDaskError extends Error {
  /** Stable identifier of the condition, e.g. `ERR_INVALID_CREDENTIALS`. */
  abstract readonly code: string;
  /** What sort of failure this is. */
  abstract readonly kind: ErrorKind;

  /** Creates the error; `message` says what went wrong and what to do. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Whether `error` is a dedl-dask error of `kind`. */
export function isErrorKind(error: unknown, kind: ErrorKind): error is DedlDaskError {
  return error instanceof DedlDaskError && error.kind === kind;
}
