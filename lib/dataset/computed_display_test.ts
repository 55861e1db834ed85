import assert from "node:assert/strict";
import { JUPYTER_DISPLAY, type MimeBundle } from "../../base/mod.ts";
import { NDArray } from "../../protocol/mod.ts";
import { decodeComputed } from "./computed_array.ts";
import type { ComputedArray } from "./computed_array.ts";

async function show(a: ComputedArray): Promise<MimeBundle> {
  return await (a as unknown as { [JUPYTER_DISPLAY](): Promise<MimeBundle> })[JUPYTER_DISPLAY]();
}

Deno.test("computed display - a 2-D result is a PNG quick-look; JSON and equality unchanged", async () => {
  const map = decodeComputed({
    name: "flood",
    dims: ["y", "x"],
    data: NDArray.from(new Float32Array([0, 1, NaN, 3, 4, 5]), [2, 3]),
    coords: {},
    attrs: { units: "m" },
  }, "flood") as ComputedArray;
  const bundle = await show(map);
  assert.equal(bundle["text/plain"], "flood (m) [y: 2, x: 3] <f4");
  const png = Uint8Array.from(atob(bundle["image/png"]), (c) => c.charCodeAt(0));
  assert.deepEqual([...png.subarray(1, 4)], [80, 78, 71], "PNG");
  assert.match(bundle["text/html"], /<img src="data:image\/png;base64,/);
  assert.deepEqual(Object.keys(map), ["name", "values", "dims", "coords", "attrs"]);
  assert.ok(!JSON.stringify({ ...map, values: null }).includes("Jupyter"));
});

Deno.test("computed display - a 1-D result is a table beside its coordinate", async () => {
  const days = Array.from({ length: 30 }, (_, i) => BigInt(Date.UTC(2022, 7, 1 + i)) * 1_000_000n);
  const series = decodeComputed({
    name: "area",
    dims: ["time"],
    data: NDArray.from(Float64Array.from({ length: 30 }, (_, i) => i * 1.5)),
    coords: {
      time: {
        dims: ["time"],
        data: NDArray.from(BigInt64Array.from(days), [30], { dtype: "<M8[ns]" }),
        attrs: {},
      },
    },
    attrs: {},
  }, "area") as ComputedArray;
  const bundle = await show(series);
  const lines = bundle["text/plain"].split("\n");
  assert.equal(lines[0], "area [time: 30] <f8");
  assert.match(lines[2], /^2022-08-01 +0$/);
  assert.equal(lines.length, 2 + 21, "10 first, an ellipsis, 10 last");
  assert.match(lines.at(-1)!, /^2022-08-30 +43\.5$/);
  assert.match(bundle["text/html"], /<th[^>]*>time<\/th><th[^>]*>area<\/th>/);
});
