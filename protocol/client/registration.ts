/**
 * How a client comes to be: the two connections to the scheduler (one for RPCs, one for the
 * client's stream), the version check that picks the scheduler's dialect, and the client's
 * registration, confirmed by `stream-start` (see `docs/wire-protocol.md`, "Client and
 * scheduler").
 * @module
 */
import { isPlainObject, withTimeout } from "../../base/mod.ts";
import { parseAddress } from "../connection/address.ts";
import { Comm, type CommOptions } from "../connection/comm.ts";
import { RpcPool } from "../connection/rpc_pool.ts";
import { RegistrationRefused, RequestTimeout } from "../errors.ts";
import { type SchedulerDialect, schedulerDialect } from "../graph/scheduler_era.ts";
import { type ClientOptions, DEFAULT_TIMEOUT_MS } from "./client_options.ts";
import { parseVersions, type SchedulerVersions } from "./scheduler_info.ts";
import { showValue } from "../codec/show_value.ts";

/** A client registered at a scheduler: its connections and what the scheduler said. */
export interface Registration {
  /** The client id announced to the scheduler. */
  readonly id: string;
  /** The scheduler's dialect. */
  readonly dialect: SchedulerDialect;
  /** The versions the scheduler runs. */
  readonly versions: SchedulerVersions;
  /** The pool of RPC connections. */
  readonly rpc: RpcPool;
  /** The client's stream. */
  readonly stream: Comm;
  /** The scheduler's warning that workers run other versions than it (empty when none). */
  readonly versionWarning: string;
}

/**
 * Connects to the scheduler at `address` and registers a new client id; on failure every
 * connection opened so far is closed again.
 * @throws {UnsupportedSchedulerVersion} when the scheduler's `distributed` is too old.
 * @throws {RegistrationRefused} when the scheduler refuses the client.
 * @throws {RequestTimeout} when the scheduler does not answer in time.
 * @throws the connection errors of {@link Comm.connect}.
 */
export async function register(address: string, options: ClientOptions): Promise<Registration> {
  const parsed = parseAddress(address);
  const commOptions: CommOptions = {
    tls: options.tls,
    tlsEngine: options.tlsEngine,
    timeoutMs: options.connectTimeoutMs,
    maxMessageSize: options.maxMessageSize,
  };
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // Both connections at once: over TLS each costs a handshake's round trips.
  const connectingStream = Comm.connect(parsed, commOptions);
  // Its failure is reported where it is awaited, or not at all if another step failed first.
  connectingStream.catch(() => {});
  const dropStream = () => connectingStream.then((c) => c.close(), () => {});
  let first: Comm;
  try {
    first = await Comm.connect(parsed, commOptions);
  } catch (e) {
    dropStream();
    throw e;
  }
  const rpc = new RpcPool(parsed, { ...commOptions, size: options.rpcPoolSize }, first);
  try {
    const versions = parseVersions(await rpc.call({ op: "versions" }, { timeoutMs }));
    const dialect = schedulerDialect(versions.distributed);
    const stream = await connectingStream;
    const id = `Client-${crypto.randomUUID()}`;
    await stream.send({
      op: "register-client",
      client: id,
      reply: false,
      // The scheduler's own versions: its warning then names only workers that differ.
      versions: { host: versions.host, packages: versions.packages },
    });
    const versionWarning = await awaitStreamStart(stream, timeoutMs);
    return { id, dialect, versions, rpc, stream, versionWarning };
  } catch (e) {
    dropStream();
    rpc.close();
    throw e;
  }
}

/** Waits for `stream-start`; returns its version warning (empty when versions agree). */
async function awaitStreamStart(stream: Comm, timeoutMs: number): Promise<string> {
  const msg = await withTimeout(
    stream.recv(),
    timeoutMs,
    () =>
      new RequestTimeout(
        `the scheduler did not confirm the client registration within ${timeoutMs} ms`,
      ),
  );
  const ops = Array.isArray(msg) ? msg : [msg];
  const start = ops.find((op) => isPlainObject(op) && op.op === "stream-start");
  if (!isPlainObject(start)) {
    throw new RegistrationRefused(
      `expected "stream-start" after registering, got ${showValue(ops).slice(0, 200)}`,
    );
  }
  if (typeof start.error === "string" && start.error) {
    throw new RegistrationRefused(`the scheduler refused the client: ${start.error}`);
  }
  return typeof start.warning === "string" ? start.warning : "";
}
