/**
 * Datasets as DEDL users see them: open a Zarr store by URL (only its metadata is read, here),
 * build lazy xarray-style expressions on its variables, and compute them at the site the
 * dataset's own `location` attribute names (`MultiCluster.compute(expr)`); results come back as
 * data, and a 2-D result can be drawn as a PNG quick-look.
 *
 * ```ts
 * const flood = (await openDataset(floodUrl)).var("flood"); // location "central"
 * const rain = (await openDataset(rainUrl)).var("precipitation"); // location "lumi"
 * const [area, total] = await mc.computeAll([
 *   flood.sum().mul(20 * 20).div(1000),
 *   rain.sel({ lat: py.slice(31, 23), lon: py.slice(65, 71) }).cumsum("time").mul(1000)
 *     .isel({ time: -1 }),
 * ]);
 * ```
 * @module
 */
export { ArrayExpr, type Computed, type Label, type Operand, type Position } from "./array_expr.ts";
export type { CoordinateValues, VariableInfo } from "./cf_decoding.ts";
export type { ComputedArray, ComputedCoordinate } from "./computed_array.ts";
export {
  type Coordinate,
  Dataset,
  type DatasetContents,
  openDataset,
  type OpenDatasetOptions,
} from "./dataset.ts";
export {
  DatasetError,
  InvalidExpression,
  InvalidStoreMetadata,
  InvalidStoreUrl,
  LocationConflict,
  QuickLookFailed,
  StoreNotFound,
  StoreUnreachable,
  UnexpectedResult,
  UnknownDimension,
  UnknownVariable,
} from "./errors.ts";
export { type ColorMap, type QuickLookOptions, quickLookPng } from "./quick_look.ts";
export { Reducer } from "./reducer.ts";
