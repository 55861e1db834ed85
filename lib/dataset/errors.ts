/**
 * Errors of the dataset layer, one class per condition, each with a stable `code`. Each message
 * names the store URL (or the expression) and what to do.
 * @module
 */
import { DedlDaskError } from "../../base/mod.ts";

/** The category of every error the dataset layer raises. */
export abstract class DatasetError extends DedlDaskError {}

/** A store URL or path cannot be used (unknown scheme, `s3://` without an endpoint, …). */
export class InvalidStoreUrl extends DatasetError {
  /** Stable code of the condition. */
  readonly code = "ERR_INVALID_STORE_URL";
  /** Kind of failure. */
  readonly kind = "usage";
  /** Creates the error; `reason` says what is wrong and how to write it instead. */
  constructor(
    /** The URL or path as given. */
    readonly url: string,
    reason: string,
  ) {
    super(`cannot open ${JSON.stringify(url)}: ${reason}`);
  }
}

/** The store could not be reached or read: network error, timeout, HTTP error, unreadable file. */
export class StoreUnreachable extends DatasetError {
  /** Stable code of the condition. */
  readonly code = "ERR_STORE_UNREACHABLE";
  /** Kind of failure. */
  readonly kind = "unavailable";
  /** Creates the error; `reason` is the real cause in words (the cause itself is attached). */
  constructor(
    /** The store's URL or path. */
    readonly url: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`the Zarr store ${url} is unreachable: ${reason}`, options);
  }
}

/** Nothing at the URL is a Zarr group (no `.zmetadata`, `zarr.json` or `.zgroup`). */
export class StoreNotFound extends DatasetError {
  /** Stable code of the condition. */
  readonly code = "ERR_STORE_NOT_FOUND";
  /** Kind of failure. */
  readonly kind = "usage";
  /** Creates the error; `detail` says what was looked for and found. */
  constructor(
    /** The store's URL or path. */
    readonly url: string,
    detail: string,
  ) {
    super(`no Zarr dataset at ${url}: ${detail}`);
  }
}

/** The store's metadata is not what Zarr and xarray's conventions require. */
export class InvalidStoreMetadata extends DatasetError {
  /** Stable code of the condition. */
  readonly code = "ERR_INVALID_STORE_METADATA";
  /** Kind of failure. */
  readonly kind = "protocol";
  /** Creates the error; `detail` names the key and what is wrong with it. */
  constructor(
    /** The store's URL or path. */
    readonly url: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`invalid Zarr metadata in ${url}: ${detail}`, options);
  }
}

/** A variable name that the dataset does not have. */
export class UnknownVariable extends DatasetError {
  /** Stable code of the condition. */
  readonly code = "ERR_UNKNOWN_VARIABLE";
  /** Kind of failure. */
  readonly kind = "usage";
  /** Creates the error. */
  constructor(
    /** The store's URL or path. */
    readonly url: string,
    /** The name asked for. */
    readonly variable: string,
    /** The names the dataset has (data variables and coordinates). */
    readonly known: readonly string[],
  ) {
    super(
      `the dataset ${url} has no variable ${JSON.stringify(variable)}; it has: ${
        known.join(", ") || "(none)"
      }`,
    );
  }
}

/** An expression step names a dimension that its array does not have. */
export class UnknownDimension extends DatasetError {
  /** Stable code of the condition. */
  readonly code = "ERR_UNKNOWN_DIMENSION";
  /** Kind of failure. */
  readonly kind = "usage";
  /** Creates the error; `step` is the expression step, e.g. `sum()`. */
  constructor(
    /** The dimension asked for. */
    readonly dimension: string,
    /** The array's dimensions at that step. */
    readonly dims: readonly string[],
    step: string,
  ) {
    super(
      `${step}: the array has no dimension ${JSON.stringify(dimension)}; its dimensions are ${
        dims.length ? dims.join(", ") : "(none: it is a scalar)"
      }`,
    );
  }
}

/**
 * Two expressions of datasets at different sites were combined. DEDL computes at each site and
 * combines the (small) results on the client: compute each part with `MultiCluster.compute`,
 * then combine the values.
 */
export class LocationConflict extends DatasetError {
  /** Stable code of the condition. */
  readonly code = "ERR_LOCATION_CONFLICT";
  /** Kind of failure. */
  readonly kind = "usage";
  /** Creates the error; `step` is the combining step, e.g. `add()`. */
  constructor(
    /** The location of the left operand. */
    readonly left: string,
    /** The location of the right operand. */
    readonly right: string,
    step: string,
  ) {
    super(
      `${step}: cannot combine data at ${JSON.stringify(left)} with data at ${
        JSON.stringify(right)
      }; compute each at its own site (MultiCluster.computeAll) and combine the results here`,
    );
  }
}

/** An expression step got an argument it cannot use (the message names the step). */
export class InvalidExpression extends DatasetError {
  /** Stable code of the condition. */
  readonly code = "ERR_INVALID_EXPRESSION";
  /** Kind of failure. */
  readonly kind = "usage";
}

/** The cluster's answer for a computed expression has an unexpected shape. */
export class UnexpectedResult extends DatasetError {
  /** Stable code of the condition. */
  readonly code = "ERR_UNEXPECTED_RESULT";
  /** Kind of failure. */
  readonly kind = "protocol";
}

/** A quick-look image cannot be made of this result (not 2-D, not numeric). */
export class QuickLookFailed extends DatasetError {
  /** Stable code of the condition. */
  readonly code = "ERR_QUICK_LOOK_FAILED";
  /** Kind of failure. */
  readonly kind = "usage";
}
