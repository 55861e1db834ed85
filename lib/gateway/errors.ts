/**
 * Errors raised by the dask-gateway client: one class per condition, each with a stable `code`,
 * naming what went wrong and what to do about it.
 * @module
 */
import { DedlDaskError } from "../../base/mod.ts";

/** The category of every error the gateway client raises. */
export abstract class GatewayError extends DedlDaskError {}

/** A gateway or proxy address given to `new Gateway()` cannot be used. */
export class InvalidGatewayAddress extends GatewayError {
  /** Stable code of the condition. */
  readonly code = "ERR_INVALID_GATEWAY_ADDRESS";
  /** Kind of failure. */
  readonly kind = "usage";
  /** Creates the error for `address`, saying `why` it cannot be used. */
  constructor(
    /** The address as given. */
    readonly address: string,
    why: string,
  ) {
    super(`invalid gateway address "${address}": ${why}`);
  }
}

/**
 * With `requireHttps`, an access token was about to go to a gateway over plain HTTP (not to
 * loopback), and was not sent.
 */
export class InsecureGateway extends GatewayError {
  /** Stable code of the condition. */
  readonly code = "ERR_INSECURE_GATEWAY";
  /** Kind of failure. */
  readonly kind = "usage";
  /** Creates the error for the gateway at `origin`. */
  constructor(
    /** The gateway's origin, e.g. `http://dask.central.data.destination-earth.eu`. */
    readonly origin: string,
  ) {
    super(
      `refused to send an access token to ${origin} over plain HTTP (requireHttps); use the ` +
        "site's https:// address, or allow it by leaving requireHttps off",
    );
  }
}

/**
 * The gateway could not be reached or did not answer in time: connection refused, name not
 * resolved, the call's timeout passed, or a front proxy answered 502/503/504.
 */
export class GatewayUnavailable extends GatewayError {
  /** Stable code of the condition. */
  readonly code = "ERR_GATEWAY_UNAVAILABLE";
  /** Kind of failure. */
  readonly kind = "unavailable";
  /** Creates the error for the gateway at `address` and what failed. */
  constructor(
    /** The gateway's API address. */
    readonly address: string,
    /** What failed, e.g. `connection refused` or `no answer within 5000 ms`. */
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(
      `dask-gateway at ${address} is unavailable: ${reason}; check the address and that the ` +
        `gateway is running, or retry later`,
      options,
    );
  }
}

/**
 * The gateway refused the credentials: it answered 401 even after the access token was
 * refreshed once. (Named `AuthenticationError` before 0.2.)
 */
export class GatewayAuthRefused extends GatewayError {
  /** Stable code of the condition. */
  readonly code = "ERR_GATEWAY_AUTH_REFUSED";
  /** Kind of failure. */
  readonly kind = "auth";
  /** Creates the error for the gateway at `address` with its 401 text. */
  constructor(
    /** The gateway's API address. */
    readonly address: string,
    /** The gateway's own error text, if it sent one. */
    readonly serverMessage: string | null,
    options?: ErrorOptions,
  ) {
    super(
      `dask-gateway at ${address} rejected the access token even after a refresh` +
        (serverMessage ? ` ("${clip(serverMessage)}")` : "") +
        `; log in again, or check that this account may use this gateway`,
      options,
    );
  }
}

/** No cluster of that name exists on the gateway (for this user). */
export class ClusterNotFound extends GatewayError {
  /** Stable code of the condition. */
  readonly code = "ERR_CLUSTER_NOT_FOUND";
  /** Kind of failure. */
  readonly kind = "usage";
  /** Creates the error for the cluster name asked for. */
  constructor(
    /** The gateway's API address. */
    readonly address: string,
    /** The cluster name asked for. */
    readonly clusterName: string,
  ) {
    super(
      `dask-gateway at ${address} has no cluster named "${clusterName}"; list the running ` +
        `clusters with listClusters()`,
    );
  }
}

/** The cluster belongs to another user (HTTP 403). */
export class ClusterAccessDenied extends GatewayError {
  /** Stable code of the condition. */
  readonly code = "ERR_CLUSTER_ACCESS_DENIED";
  /** Kind of failure. */
  readonly kind = "auth";
  /** Creates the error for the cluster name asked for, with the 403 text. */
  constructor(
    /** The gateway's API address. */
    readonly address: string,
    /** The cluster name asked for. */
    readonly clusterName: string,
    /** The gateway's own error text. */
    readonly serverMessage: string | null,
  ) {
    super(
      `dask-gateway at ${address} denies access to cluster "${clusterName}"` +
        (serverMessage ? ` ("${clip(serverMessage)}")` : "") +
        `; only the user who started a cluster may use it`,
    );
  }
}

/**
 * The cluster failed, or was stopped, before it was running. The gateway's API gives a reason
 * only for some failures; otherwise its logs hold it.
 */
export class ClusterFailed extends GatewayError {
  /** Stable code of the condition. */
  readonly code = "ERR_CLUSTER_FAILED";
  /** Kind of failure. */
  readonly kind = "remote";
  /** Creates the error with the status the gateway reported and its reason. */
  constructor(
    /** The gateway's API address. */
    readonly address: string,
    /** The cluster's name. */
    readonly clusterName: string,
    /** The status the gateway reported: `FAILED`, `STOPPING` or `STOPPED`. */
    readonly status: string,
    /** The gateway's reason, or `null` when it gave none. */
    readonly reason: string | null,
  ) {
    super(
      `cluster "${clusterName}" at ${address} ` +
        (status === "FAILED" ? "failed" : `was stopped (status ${status})`) +
        (reason
          ? `: ${clip(reason)}`
          : `; the gateway gives no reason over its API, see the gateway's logs`),
    );
  }
}

/** The cluster is not running, so it cannot be scaled, adapted or connected to (HTTP 409). */
export class ClusterNotRunning extends GatewayError {
  /** Stable code of the condition. */
  readonly code = "ERR_CLUSTER_NOT_RUNNING";
  /** Kind of failure. */
  readonly kind = "usage";
  /** Creates the error with the gateway's reason. */
  constructor(
    /** The gateway's API address. */
    readonly address: string,
    /** The cluster's name. */
    readonly clusterName: string,
    /** The gateway's reason, or the last known status. */
    readonly reason: string,
  ) {
    super(
      `cluster "${clusterName}" at ${address} is not running (${clip(reason)}); start a new ` +
        `cluster`,
    );
  }
}

/**
 * A create request (`newCluster`) may have reached the gateway, but its answer did not arrive:
 * no answer in time, the connection cut after the request was sent, or an answer that could not
 * be read. The client then compared the user's clusters at the gateway with a list taken just
 * before the request, to find the cluster the gateway may have created: {@link stopped} names it
 * when it was found and stopped. `cause` is the failure itself.
 */
export class CreateAnswerLost extends GatewayError {
  /** Stable code of the condition. */
  readonly code = "ERR_CREATE_ANSWER_LOST";
  /** Kind of failure. */
  readonly kind = "unavailable";
  /** The cluster the request created, stopped again; `null` when none was found or stopped. */
  readonly stopped: string | null;
  /** The cluster the request created, which could not be stopped; `null` when none. */
  readonly unstopped: string | null;
  /** New clusters that cannot be told apart from another session's: none was stopped. */
  readonly possibleOrphans: readonly string[];
  /** `false` when the clusters could not be listed after the failure: nothing is known. */
  readonly checked: boolean;

  /** Creates the error from what the comparison of the cluster lists found. */
  constructor(
    /** The gateway's API address. */
    readonly address: string,
    /** What failed, e.g. `no answer within 30000 ms`. */
    readonly reason: string,
    found: LostCreateFindings,
    options?: ErrorOptions,
  ) {
    super(
      `the create request to dask-gateway at ${address} was sent but its answer was lost ` +
        `(${clip(reason)}); ${lostCreateOutcome(found)}`,
      options,
    );
    this.stopped = found.stopped;
    this.unstopped = found.unstopped;
    this.possibleOrphans = found.possibleOrphans;
    this.checked = found.checked;
  }
}

/** What comparing the cluster lists around a lost create answer found (see {@link CreateAnswerLost}). */
export interface LostCreateFindings {
  /** The cluster the request created, stopped again. */
  readonly stopped: string | null;
  /** The cluster the request created, which could not be stopped. */
  readonly unstopped: string | null;
  /** New clusters that cannot be told apart from another session's. */
  readonly possibleOrphans: readonly string[];
  /** Whether the clusters could be listed after the failure. */
  readonly checked: boolean;
}

function lostCreateOutcome(found: LostCreateFindings): string {
  if (!found.checked) {
    return "the clusters could not be listed afterwards, so whether it created one is unknown: " +
      "list your clusters (listClusters(), `dedl-dask clusters`) and stop any you do not use";
  }
  if (found.stopped) {
    return `the gateway had created cluster "${found.stopped}", which has been stopped; retry`;
  }
  if (found.unstopped) {
    return `the gateway created cluster "${found.unstopped}", which could not be stopped: stop ` +
      `it with stopCluster("${found.unstopped}") or \`dedl-dask stop <site> ${found.unstopped}\``;
  }
  if (found.possibleOrphans.length > 0) {
    const names = found.possibleOrphans.map((n) => `"${n}"`).join(", ");
    return `clusters ${names} appeared meanwhile and one may be another session's, so none was ` +
      "stopped: stop the one that is not in use with stopCluster(name) or " +
      "`dedl-dask stop <site> <name>`";
  }
  return "the gateway created no cluster (its list shows none new); retry";
}

/** A started cluster did not become RUNNING before the start deadline. */
export class ClusterStartTimeout extends GatewayError {
  /** Stable code of the condition. */
  readonly code = "ERR_CLUSTER_START_TIMEOUT";
  /** Kind of failure. */
  readonly kind = "timeout";
  /** Creates the error with the last status and the deadline that passed. */
  constructor(
    /** The gateway's API address. */
    readonly address: string,
    /** The cluster's name. */
    readonly clusterName: string,
    /** The last status the gateway reported. */
    readonly lastStatus: string,
    /** The deadline that passed. */
    readonly timeoutMs: number,
    /** Whether the client stopped the cluster after the deadline (it does for clusters it started). */
    readonly stopped: boolean,
    options?: ErrorOptions,
  ) {
    super(
      `cluster "${clusterName}" at ${address} was still ${lastStatus} after ${timeoutMs} ms` +
        (stopped ? "; it has been stopped" : "; it was left as it is") +
        `. Raise startTimeoutMs if the site is slow to start clusters`,
      options,
    );
  }
}

/** Fewer workers than asked for joined the scheduler before the timeout. */
export class WorkersTimeout extends GatewayError {
  /** Stable code of the condition. */
  readonly code = "ERR_WORKERS_TIMEOUT";
  /** Kind of failure. */
  readonly kind = "timeout";
  /** Creates the error with the counts asked for and present. */
  constructor(
    /** The cluster's name. */
    readonly clusterName: string,
    /** Workers asked for. */
    readonly wanted: number,
    /** Workers the scheduler reported last. */
    readonly present: number,
    /** The timeout that passed. */
    readonly timeoutMs: number,
  ) {
    super(
      `cluster "${clusterName}" has ${present} of ${wanted} workers after ${timeoutMs} ms; ` +
        `scale the cluster (the gateway may cap the count, see scale()'s message) or wait longer`,
    );
  }
}

/** A worker count for `scale`, `adapt` or `waitForWorkers` is not a non-negative integer. */
export class InvalidWorkerCount extends GatewayError {
  /** Stable code of the condition. */
  readonly code = "ERR_INVALID_WORKER_COUNT";
  /** Kind of failure. */
  readonly kind = "usage";
  /** Creates the error for the argument and the value given. */
  constructor(
    /** The argument's name, e.g. `minimum`. */
    readonly argument: string,
    /** The value given. */
    readonly value: unknown,
  ) {
    super(`${argument} must be a non-negative integer, got ${describe(value)}`);
  }
}

/**
 * Cluster options do not fit the gateway's option spec: an unknown field, a value of the wrong
 * type, or a value out of range. Raised before any request when the client checks them, or from
 * the gateway's 422 answer.
 */
export class InvalidOptions extends GatewayError {
  /** Stable code of the condition. */
  readonly code = "ERR_INVALID_CLUSTER_OPTIONS";
  /** Kind of failure. */
  readonly kind = "usage";
  /** Creates the error; fields not known are `null` (`undefined` for the value). */
  constructor(
    /** The offending field, when known. */
    readonly field: string | null,
    /** The value given for it (`undefined` when not known). */
    readonly value: unknown,
    /** What the spec allows, e.g. `an integer from 1 to 10`. */
    readonly allowed: string | null,
    /** The gateway's own message when the gateway refused the options (422), else `null`. */
    readonly serverMessage: string | null = null,
  ) {
    super(
      serverMessage !== null
        ? `the gateway refused the cluster options: ${clip(serverMessage)}` +
          (allowed ? ` (${clip(field ?? "")} allows ${clip(allowed)})` : "")
        : `cluster option ${clip(field ?? "")} = ${describe(value)} is not allowed; ` +
          `${clip(field ?? "")} takes ${clip(allowed ?? "")}`,
    );
  }
}

/**
 * The gateway answered with a status or body this client does not expect (e.g. a 500, or a body
 * that is not the documented JSON). Usually a gateway bug or a wrong address (another service).
 */
export class UnexpectedResponse extends GatewayError {
  /** Stable code of the condition. */
  readonly code = "ERR_UNEXPECTED_GATEWAY_RESPONSE";
  /** Kind of failure. */
  readonly kind = "protocol";
  /** Creates the error for the URL, status and what was wrong. */
  constructor(
    /** The requested URL. */
    readonly url: string,
    /** The HTTP status. */
    readonly status: number,
    /** What was wrong, including the start of the body. */
    readonly detail: string,
  ) {
    super(
      `unexpected answer from ${url} (HTTP ${status}): ${
        clip(detail)
      }; check that the address is a ` +
        `dask-gateway`,
    );
  }
}

/** Text from the network or the caller, shortened for a message. */
function clip(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/** Short printable form of a value for error messages. */
function describe(value: unknown): string {
  if (typeof value === "string") return clip(JSON.stringify(value), 80);
  if (typeof value === "number") return String(value);
  if (typeof value === "bigint") return `${value}n`;
  if (value === undefined) return "undefined";
  try {
    const text = JSON.stringify(value);
    return text.length > 80 ? text.slice(0, 77) + "..." : text;
  } catch {
    return String(value);
  }
}
