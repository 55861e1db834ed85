/**
 * Test helper: Python's own xarray on the same stores (xarray_reference.py), the reference the
 * dataset layer's metadata and results are compared with.
 * @module
 */
import { NDArray } from "../../../protocol/mod.ts";

/** An array as the Python side sends it. */
export interface ReferenceArray {
  readonly dtype: string;
  readonly shape: number[];
  readonly b64: string;
}

/** A variable or coordinate as xarray describes it. */
export interface ReferenceVariable {
  readonly dims: string[];
  readonly shape: number[];
  readonly dtype: string;
  readonly chunks: number[] | null;
  readonly attrs: Record<string, unknown>;
  readonly values?: ReferenceArray;
}

/** A dataset as xarray describes it. */
export interface ReferenceDataset {
  readonly attrs: Record<string, unknown>;
  readonly variables: Record<string, ReferenceVariable>;
  readonly coords: Record<string, ReferenceVariable>;
}

/** A computed DataArray as xarray gives it. */
export interface ReferenceResult {
  readonly name: string | null;
  readonly dims: string[];
  readonly attrs: Record<string, unknown>;
  readonly values: ReferenceArray;
  readonly coords: Record<string, { dims: string[]; values: ReferenceArray }>;
}

const TIMEOUT_MS = 600_000;

async function run(python: string, request: unknown): Promise<unknown> {
  const script = new URL("./xarray_reference.py", import.meta.url).pathname;
  const child = new Deno.Command(python, {
    args: [script],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(TIMEOUT_MS),
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(request)));
  await writer.close();
  const out = await child.output();
  if (!out.success) {
    const stderr = new TextDecoder().decode(out.stderr).slice(-3000);
    throw new Error(`xarray_reference.py failed (exit ${out.code}):\n${stderr}`);
  }
  return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
}

/** `xr.open_zarr(url, **open)` as xarray describes it, in `python`. */
export async function xarrayDescribe(
  python: string,
  url: string,
  open: Record<string, unknown> = {},
): Promise<ReferenceDataset> {
  return await run(python, { describe: url, open }) as ReferenceDataset;
}

/** Each Python expression computed by xarray/dask in `python` (`scope` names are in scope). */
export async function xarrayCompute(
  python: string,
  expressions: Record<string, string>,
  scope: Record<string, string> = {},
): Promise<Record<string, ReferenceResult>> {
  return await run(python, { compute: expressions, scope }) as Record<string, ReferenceResult>;
}

/** A reference array as an {@link NDArray} (datetimes as `<M8[ns]`). */
export function referenceArray(a: ReferenceArray): NDArray {
  const bytes = Uint8Array.from(atob(a.b64), (c) => c.charCodeAt(0));
  return NDArray.fromBytes(bytes, a.dtype, a.shape);
}
