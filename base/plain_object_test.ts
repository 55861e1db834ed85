import assert from "node:assert/strict";
import { isPlainObject } from "./plain_object.ts";

Deno.test("isPlainObject - plain and null-prototype objects only", () => {
  assert.ok(isPlainObject({ a: 1 }));
  assert.ok(isPlainObject(Object.create(null)));
  assert.ok(isPlainObject(JSON.parse('{"x": [1]}')));
  for (
    const v of [null, undefined, 1, "s", [], new Uint8Array(1), new Map(), new Date(), () => 1]
  ) {
    assert.equal(isPlainObject(v), false, String(v));
  }
  class Custom {}
  assert.equal(isPlainObject(new Custom()), false);
});
