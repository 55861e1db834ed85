import assert from "node:assert/strict";
import { py } from "../../protocol/mod.ts";
import { isSiteComputation, type SiteComputation } from "./site_computation.ts";

Deno.test("site computations - told apart from nodes and collections", () => {
  const computation: SiteComputation<number> = {
    attrs: { location: "lumi" },
    description: "a test computation",
    computeOn: () => Promise.resolve(1),
  };
  assert.equal(isSiteComputation(computation), true);
  const node = py.call("os.getenv", "DEDL_SITE").withAttrs({ location: "lumi" });
  assert.equal(isSiteComputation(node), false);
  assert.equal(isSiteComputation(py.collection(node)), false);
  assert.equal(isSiteComputation(null), false);
  assert.equal(isSiteComputation({ computeOn: () => 1 }), false);
});
