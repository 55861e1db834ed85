/**
 * Values from the wire or from callers, shown in error messages: JSON where it can be (bigints as
 * strings of digits), never throwing, since a message that fails to build would hide the real
 * error.
 * @module
 */

/** `value` as JSON text (bigints as strings of digits), else `String(value)`. */
export function showValue(value: unknown): string {
  try {
    return JSON.stringify(value, (_, x) => typeof x === "bigint" ? String(x) : x) ??
      String(value);
  } catch {
    return String(value);
  }
}
