/**
 * dedl-dask: run Dask work at every DestinE Data Lake site from TypeScript.
 *
 * The layers, bottom up: a native Dask comms client (`protocol/`: {@link Client}, {@link py}),
 * OIDC login for DEDL (`lib/auth`: {@link OidcAuth}), a dask-gateway client (`lib/gateway`:
 * {@link Gateway}) and the multi-site layer (`lib/multicluster`: {@link MultiCluster}).
 *
 * @example
 * ```ts
 * import { MultiCluster, OidcAuth, py } from "./mod.ts";
 *
 * await using auth = await OidcAuth.password({ username: "me" }); // asks for the password
 * await using mc = await MultiCluster.connect({ auth });
 * await mc.newCluster();
 * const mean = py.call(py.fn("xarray.open_zarr"), "https://…/t2m.zarr")
 *   .item("t2m").method("mean").method("item")
 *   .withAttrs({ location: "lumi" });
 * console.log(await mc.compute(mean)); // computed at LUMI
 * ```
 *
 * @module
 */
export * from "./protocol/mod.ts";
export * from "./lib/auth/mod.ts";
export * from "./lib/gateway/mod.ts";
export * from "./lib/multicluster/mod.ts";
export { DedlDaskError, type ErrorKind } from "./base/mod.ts";
