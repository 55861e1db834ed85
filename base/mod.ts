/**
 * The base under every layer of dedl-dask: the root error class and the small helpers every
 * layer shares (one timeout, one sleep, one plain-object test, and the pieces of rich notebook
 * output).
 * @module
 */
export { DedlDaskError, type ErrorKind, isErrorKind } from "./dedl_dask_error.ts";
export {
  type Displayable,
  escapeHtml,
  htmlLink,
  htmlTable,
  inJupyterKernel,
  JUPYTER_DISPLAY,
  type MimeBundle,
  showInNotebook,
  textTable,
} from "./jupyter.ts";
export { isPlainObject } from "./plain_object.ts";
export { sleep } from "./sleep.ts";
export { withTimeout } from "./timeout.ts";
