/**
 * The one way dedl-dask bounds a wait: a promise raced against a timer that is always cleared.
 * @module
 */

/**
 * Resolves or rejects as `promise` does, unless `timeoutMs` passes first: then it rejects with
 * `onTimeout()` (the caller's typed error). `undefined` means no bound.
 */
export function withTimeout<T>(
  promise: Promise<T>,
  timeoutMs: number | undefined,
  onTimeout: () => Error,
): Promise<T> {
  if (timeoutMs === undefined) return promise;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), timeoutMs);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}
