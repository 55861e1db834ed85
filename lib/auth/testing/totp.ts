/**
 * Test support: time-based one-time codes (RFC 6238, HMAC-SHA1, 30 s steps), computed from a
 * base32 key the way an authenticator app does, so that tests can log in as an account with a
 * second factor.
 * @module
 */
import { recordSecret } from "./secret_log.ts";

/** The code for `base32Key` at `time` (ms since the epoch; default now). */
export async function totpCode(
  base32Key: string,
  { time = Date.now(), digits = 6, stepSeconds = 30 } = {},
): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    base32Decode(base32Key),
    { name: "HMAC", hash: "SHA-1" },
    false,
    ["sign"],
  );
  const counter = new DataView(new ArrayBuffer(8));
  counter.setBigUint64(0, BigInt(Math.floor(time / 1000 / stepSeconds)));
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, counter.buffer));
  const offset = mac[mac.length - 1] & 0x0f;
  const value = new DataView(mac.buffer).getUint32(offset) & 0x7fffffff;
  const code = String(value % 10 ** digits).padStart(digits, "0");
  recordSecret(code);
  return code;
}

/** RFC 4648 base32 (padding and case ignored). */
export function base32Decode(text: string): Uint8Array<ArrayBuffer> {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const bytes: number[] = [];
  let bits = 0, value = 0;
  for (const char of text.toUpperCase().replace(/=+$/, "")) {
    const index = alphabet.indexOf(char);
    if (index < 0) throw new Error(`not base32: ${JSON.stringify(char)}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return new Uint8Array(bytes);
}

/** A fresh random key, base32, as an authenticator app would be given. */
export function randomBase32Key(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  return [...crypto.getRandomValues(new Uint8Array(32))].map((b) => alphabet[b & 31]).join("");
}
