/**
 * Test and benchmark helper: computes a Dask collection with Python's own `distributed.Client`
 * against a scheduler (see python_compute.py), the reference for `computeCollection`.
 * @module
 */
import { pythonEnv, type PythonEra } from "../../tests/replica/python_env.ts";

/** What Python's client computed, and how long each `client.compute(c).result()` took. */
export interface PythonComputeResult {
  /** The result as JSON (`numpy.asarray(result).tolist()`). */
  readonly value: unknown;
  /** Wall time of each `client.compute(c).result()` in seconds. */
  readonly seconds: number[];
  /** The same plus evaluating the expression (e.g. `xr.open_zarr`), in seconds. */
  readonly total_seconds: number[];
}

/** Longest a reference computation may take before the caller fails. */
const TIMEOUT_MS = 600_000;

/**
 * Runs `client.compute(eval(expression)).result()` `repeat` times in the era's Python against
 * the scheduler at `address` (`tcp://…`). `expression` sees `da`, `np`, `xr` and `operator`.
 */
export async function pythonCompute(
  options: { era?: PythonEra; address: string; expression: string; repeat?: number },
): Promise<PythonComputeResult> {
  const python = await pythonEnv(options.era ?? "dedl");
  const script = new URL("./python_compute.py", import.meta.url).pathname;
  const out = await new Deno.Command(python, {
    args: [script, options.address, String(options.repeat ?? 1), options.expression],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(TIMEOUT_MS),
  }).output();
  const stdout = new TextDecoder().decode(out.stdout).trim();
  if (!out.success) {
    const stderr = new TextDecoder().decode(out.stderr).slice(-3000);
    throw new Error(`python_compute.py failed (exit ${out.code}):\n${stderr}`);
  }
  return JSON.parse(stdout.split("\n").pop()!);
}
