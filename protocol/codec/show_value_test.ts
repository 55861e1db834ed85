import assert from "node:assert/strict";
import { showValue } from "./show_value.ts";

Deno.test("showValue - JSON text, bigints as strings of digits, and never a throw", () => {
  assert.equal(showValue("lz5"), '"lz5"');
  assert.equal(showValue([1, "a", null]), '[1,"a",null]');
  assert.equal(showValue(2n ** 64n), '"18446744073709551616"');
  assert.equal(showValue({ n: 1n }), '{"n":"1"}');
  assert.equal(showValue(undefined), "undefined");
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.equal(showValue(cyclic), "[object Object]");
});
