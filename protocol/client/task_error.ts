/**
 * Turns a scheduler's `task-erred` report into a {@link RemoteError} (the exception read as in
 * `codec/remote_exception.ts`).
 * @module
 */
import { decodeRemoteException } from "../codec/remote_exception.ts";
import { RemoteError } from "../errors.ts";

/** Builds the error a future of `key` rejects with, from `task-erred`'s fields. */
export function taskErredToRemoteError(
  key: string,
  exception: unknown,
  traceback: unknown,
): RemoteError {
  const r = decodeRemoteException(exception, traceback);
  if (r.decodeError !== undefined) {
    return new RemoteError(key, r.type, "", `the task failed, but ${r.message}`, "", {
      cause: r.decodeError,
    });
  }
  return new RemoteError(
    key,
    r.type,
    r.module,
    r.message,
    r.traceback,
    r.exception ? { cause: r.exception } : undefined,
  );
}
