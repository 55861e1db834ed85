import assert from "node:assert/strict";
import { withTimeout } from "./timeout.ts";

class Late extends Error {}

Deno.test("withTimeout - the promise's outcome when it settles in time", async () => {
  assert.equal(await withTimeout(Promise.resolve(7), 1000, () => new Late()), 7);
  await assert.rejects(withTimeout(Promise.reject(new TypeError("x")), 1000, () => new Late()), {
    name: "TypeError",
  });
  assert.equal(await withTimeout(Promise.resolve(1), undefined, () => new Late()), 1);
});

Deno.test("withTimeout - the caller's error when time runs out, and no timer left", async () => {
  const never = new Promise<never>(() => {});
  const started = Date.now();
  await assert.rejects(withTimeout(never, 30, () => new Late("slow")), Late);
  assert.ok(Date.now() - started >= 25);
  // Deno's op sanitizer fails this test if a timer of a settled race were still pending.
  await withTimeout(Promise.resolve(), 60_000, () => new Late());
});
