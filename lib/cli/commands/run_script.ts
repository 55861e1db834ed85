/**
 * The contract between `dedl-dask run` and a user script: the script default-exports a
 * {@link CliScript}; the CLI logs in, connects to the sites, calls it with the
 * {@link MultiCluster}, prints what it returns and stops every cluster it started through `mc`.
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
import type { OidcAuth } from "../../auth/mod.ts";
import type { MultiCluster } from "../../multicluster/mod.ts";

/** What `dedl-dask run` passes to a script beside the {@link MultiCluster}. */
export interface ScriptContext {
  /** The login; its access tokens stay valid for the whole run. */
  readonly auth: OidcAuth;
  /** The arguments after `--` on the command line. */
  readonly args: readonly string[];
}

/**
 * The default export of a script for `dedl-dask run`. What it returns is printed (as JSON with
 * `--json`); clusters it started through `mc` are stopped when it returns, throws or is
 * interrupted.
 */
export type CliScript = (mc: MultiCluster, context: ScriptContext) => unknown;
