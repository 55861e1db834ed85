import assert from "node:assert/strict";
import { JUPYTER_DISPLAY, type MimeBundle } from "../../base/mod.ts";
import { RemoteError } from "../errors.ts";
import { NDArray } from "./numpy.ts";

const show = (v: { [JUPYTER_DISPLAY](): MimeBundle }) => v[JUPYTER_DISPLAY]();

Deno.test("notebook display - small arrays as tables, others summarised", () => {
  const small = show(NDArray.from(new Float64Array([1, 2.5, 3, 4, 5, 6.125]), [2, 3]));
  assert.match(small["text/html"], /<caption[^>]*>NDArray &#60;f8 \[2 × 3\]<\/caption>/);
  assert.match(small["text/html"], /<td[^>]*>6\.125<\/td>/);
  assert.equal(
    small["text/plain"],
    "NDArray <f8 [2 × 3]\n   0  1    2\n0  1  2.5  3\n1  4  5    6.125",
  );
  const big = show(NDArray.from(Float32Array.from({ length: 100 * 60 }, (_, i) => i), [100, 60]));
  assert.equal(
    big["text/plain"],
    "NDArray <f4 [100 × 60]: 6000 values, min 0, max 5999, mean 2999.5",
  );
  assert.equal(
    show(NDArray.from(new Float64Array([NaN, 1, 3]), [3], {}))["text/plain"].split("\n")[0],
    "NDArray <f8 [3]",
  );
  assert.match(show(NDArray.from(new Int32Array([7]), []))["text/plain"], /\[\] 7$/);
});

Deno.test("notebook display - a RemoteError shows the exception and its remote traceback", () => {
  const e = new RemoteError(
    "div-1",
    "ZeroDivisionError",
    "builtins",
    "division by zero",
    '  File "<x>", line 1, in f\n    1 / 0',
  );
  const bundle = show(e);
  assert.match(bundle["text/plain"], /^RemoteError: task div-1 failed with ZeroDivisionError/);
  assert.match(bundle["text/html"], /<b[^>]*>ZeroDivisionError<\/b>: division by zero/);
  assert.match(
    bundle["text/html"],
    /<pre[^>]*>Traceback \(on the worker\):\n {2}File &#34;&#60;x&#62;&#34;/,
  );
});
