import assert from "node:assert/strict";
import { decode } from "npm:fast-png@8.0.0";
import { NDArray } from "../../protocol/mod.ts";
import type { ComputedArray } from "./computed_array.ts";
import { QuickLookFailed } from "./errors.ts";
import { quickLookPng } from "./quick_look.ts";

const array = (values: NDArray, dims = ["y", "x"]): ComputedArray => ({
  name: "v",
  values,
  dims,
  coords: {},
  attrs: {},
});

/** RGBA of pixel (row, col). */
const pixel = (
  png: ReturnType<typeof decode>,
  row: number,
  col: number,
) => [...png.data.slice((row * png.width + col) * 4, (row * png.width + col) * 4 + 4)];

Deno.test("quick-look - colour map from min to max, NaN transparent, origin", async () => {
  const values = NDArray.from(new Float64Array([0, 0.5, 1, NaN, 1, 0]), [2, 3]);
  const png = decode(await quickLookPng(array(values)));
  assert.deepEqual([png.width, png.height, png.channels, png.depth], [3, 2, 4, 8]);
  assert.deepEqual(pixel(png, 0, 0), [0x44, 0x01, 0x54, 255]); // viridis' first colour
  assert.deepEqual(pixel(png, 0, 1), [0x21, 0x91, 0x8c, 255]); // its middle
  assert.deepEqual(pixel(png, 0, 2), [0xfd, 0xe7, 0x25, 255]); // its last
  assert.deepEqual(pixel(png, 1, 0), [0, 0, 0, 0]); // NaN
  const greys = decode(await quickLookPng(array(values), { colorMap: "greys", min: 0, max: 2 }));
  assert.deepEqual(pixel(greys, 0, 2), [128, 128, 128, 255]);
  const lower = decode(await quickLookPng(array(values), { origin: "lower" }));
  assert.deepEqual(pixel(lower, 0, 0), [0, 0, 0, 0]);
  // Booleans and integers are drawn as numbers; a constant array in the first colour.
  const flags = NDArray.from(new Uint8Array([1, 0]), [1, 2], { dtype: "|b1" });
  assert.deepEqual(pixel(decode(await quickLookPng(array(flags), { colorMap: "greys" })), 0, 0), [
    0,
    0,
    0,
    255,
  ]);
  const flat = NDArray.from(new Int32Array([7, 7]), [2, 1]);
  assert.deepEqual(pixel(decode(await quickLookPng(array(flat))), 1, 0), [0x44, 0x01, 0x54, 255]);
});

Deno.test("quick-look - only 2-D numeric arrays", async () => {
  await assert.rejects(
    quickLookPng(array(NDArray.from(new Float64Array([1, 2])), ["x"])),
    (e: Error) =>
      e instanceof QuickLookFailed && /needs a 2-D array; v has dimensions \[x\]/.test(e.message),
  );
  const times = NDArray.from(new BigInt64Array([1n, 2n]), [1, 2], { dtype: "<M8[ns]" });
  await assert.rejects(quickLookPng(array(times)), /dtype <M8\[ns\]; a quick-look draws numbers/);
});
