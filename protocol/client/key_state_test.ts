import assert from "node:assert/strict";
import { keyText } from "./key_state.ts";

Deno.test("key state - tuple keys read as Python prints them, strings as they are", () => {
  assert.equal(keyText("sum-abc"), "sum-abc");
  assert.equal(keyText(["x", 0, 1]), "('x', 0, 1)");
  assert.equal(keyText(["x"]), "('x',)");
  assert.equal(keyText(["a", ["b", 2]]), "('a', ('b', 2))");
  assert.equal(keyText(["it's", 0]), `("it's", 0)`);
  assert.equal(keyText(["a\\b'\"\n", 0]), "('a\\\\b\\'\"\\n', 0)");
  assert.equal(keyText(7), "7");
});
