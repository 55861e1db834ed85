/**
 * The `dedl-dask` command line as a library: {@linkcode runCli} runs a command line and resolves
 * to its exit code (`main.ts` is the executable), {@linkcode CliScript} is the contract of a
 * script for `dedl-dask run`, the exit codes derive from the errors' `kind`, and
 * {@linkcode TerminalProgress} draws compute progress on stderr as the CLI does.
 *
 * ```ts
 * // analysis.ts — run with: dedl-dask run analysis.ts -- 2026-01
 * import type { CliScript } from "https://…/lib/cli/mod.ts";
 * import { py } from "https://…/mod.ts";
 *
 * const analysis: CliScript = async (mc, { args }) => {
 *   await mc.newCluster({ worker_cores: 2 });
 *   const site = py.call(py.fn("os.getenv"), "DEDL_SITE").withAttrs({ location: "lumi" });
 *   return { month: args[0], computedAt: await mc.compute(site) };
 * };
 * export default analysis;
 * ```
 * @module
 */
export { runCli, VERSION } from "./main.ts";
export type { CliScript, ScriptContext } from "./commands/run_script.ts";
export { ExitCode, exitCodeOf } from "./output/exit_codes.ts";
export { TerminalProgress, type TerminalProgressOptions } from "./output/progress_bars.ts";
export * from "./errors.ts";
export * from "./deprecated.ts";
