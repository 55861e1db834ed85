import assert from "node:assert/strict";
import { base32Decode, totpCode } from "./totp.ts";

// RFC 6238 appendix B, SHA-1: the key is the ASCII "12345678901234567890".
const RFC_KEY = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

Deno.test("totp - RFC 6238 test vectors (SHA-1, 8 digits)", async () => {
  assert.equal(new TextDecoder().decode(base32Decode(RFC_KEY)), "12345678901234567890");
  const vectors: [number, string][] = [
    [59, "94287082"],
    [1111111109, "07081804"],
    [1234567890, "89005924"],
    [20000000000, "65353130"],
  ];
  for (const [seconds, code] of vectors) {
    assert.equal(await totpCode(RFC_KEY, { time: seconds * 1000, digits: 8 }), code);
  }
});
