/**
 * Dask keys as this client tracks them. A key is a string, or (for a collection's chunks) a
 * tuple such as `('x', 0, 1)`, which schedulers from distributed 2023.9.0 on keep as a tuple and
 * send as a msgpack array; older ones turn it into the string Python prints for it. The client
 * names every key by that text and keeps the wire form of tuple keys to send them back as they
 * came.
 * @module
 */

/** The text of a key: a string as it is, a tuple as Python prints it (`('x', 0)`). */
export function keyText(key: unknown): string {
  if (typeof key === "string") return key;
  if (!Array.isArray(key)) return String(key);
  const items = key.map((k) => typeof k === "string" ? pythonRepr(k) : keyText(k));
  return `(${items.join(", ")}${items.length === 1 ? "," : ""})`;
}

/** `repr(s)` of a Python `str`: single quotes unless it holds a quote and no double quote. */
function pythonRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === "\\" || ch === quote) out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return out + quote;
}
