/**
 * Telling a plain data object (`{...}`, JSON or msgpack maps) from arrays, byte arrays, maps and
 * class instances.
 * @module
 */

/** Whether `value` is a plain object: its prototype is `Object.prototype` or `null`. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
