/**
 * Your own Python on the cluster: `client.uploadFile(...)` makes a module importable on the
 * scheduler and on every worker, including workers that join later, the way Python's
 * `Client.upload_file` does (distributed 2023.8.0 – 2026.x, `distributed/client.py`):
 *
 * - the scheduler gets a `SchedulerUploadFile` scheduler plugin (`register_scheduler_plugin`):
 *   its `start` writes the file into the scheduler's local directory, puts that directory on
 *   `sys.path` and imports the module. The scheduler needs it because it unpickles the graphs
 *   that name the module's functions.
 * - the workers get an `UploadFile` worker plugin (`register_worker_plugin`): the scheduler
 *   keeps the pickled plugin and hands it to every worker now and every worker that registers
 *   later (adaptive scaling), whose `setup` writes and imports the file the same way.
 *
 * Both plugins are built here without Python: an instance of distributed's own class with its
 * `filename`, `load` and `data` attributes set directly (NEWOBJ + BUILD, {@link PyInstance}),
 * since their `__init__` would read the file from a local path on the cluster. Both carry one
 * name per module file, so uploading a module again replaces it. A module that does not import
 * (syntax error, missing package, error at import time) is reported with a typed error and its
 * plugins are unregistered again, so later workers do not trip over it.
 * @module
 */
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { isPlainObject } from "../../base/mod.ts";
import { PyGlobal, PyInstance } from "../codec/pickle/python_values.ts";
import { dumps } from "../codec/pickle/writer.ts";
import { decodeRemoteException, type RemoteException } from "../codec/remote_exception.ts";
import { InvalidModule, InvalidModuleSyntax, ModuleImportFailed, RpcFailed } from "../errors.ts";
import type { ClientContext } from "./client_context.ts";

/**
 * A module for {@link Client.uploadFile}: a local path (`string` or `file:` URL) to a `.py`
 * file (or a `.zip`/`.egg` archive), an `http(s):` URL to fetch it from (e.g. a module beside a
 * script imported by URL: `new URL("./mine.py", import.meta.url)`), or its name and source.
 */
export type ModuleSource =
  | string
  | URL
  | {
    /** File name on the cluster, e.g. `"flood_severity.py"`: the module is `flood_severity`. */
    readonly name: string;
    /** The file's content. */
    readonly source: string | Uint8Array;
  };

/** Options of {@link Client.uploadFile}. */
export interface UploadFileOptions {
  /** Milliseconds for each registration (scheduler, then workers). Default: the client's. */
  readonly timeoutMs?: number;
}

/** What {@link Client.uploadFile} did. */
export interface UploadedModule {
  /** The file name on the cluster. */
  readonly name: string;
  /** Its size in bytes. */
  readonly bytes: number;
  /** Addresses of the workers that imported it now (later workers import it as they join). */
  readonly workers: readonly string[];
}

/** A module read and checked, ready to upload to any number of clusters. */
export interface ModuleFile {
  /** The file name on the cluster. */
  readonly name: string;
  /** The module as the caller named it (the path given, or `name`), for errors. */
  readonly label: string;
  /** The file's bytes. */
  readonly data: Uint8Array;
}

const SCHEDULER_UPLOAD_FILE = new PyGlobal(
  "distributed.diagnostics.plugin",
  "SchedulerUploadFile",
);
const UPLOAD_FILE = new PyGlobal("distributed.diagnostics.plugin", "UploadFile");
const SYNTAX_ERRORS = new Set(["SyntaxError", "IndentationError", "TabError"]);

/**
 * Reads and checks a module: the file exists, and its name is a module Python can import.
 * @throws {InvalidModule} naming the path and what is wrong.
 */
export async function readModuleFile(source: ModuleSource): Promise<ModuleFile> {
  if (source instanceof URL && (source.protocol === "http:" || source.protocol === "https:")) {
    return await fetchModuleFile(source);
  }
  if (typeof source === "string" || source instanceof URL) {
    if (source instanceof URL && source.protocol !== "file:") {
      throw new InvalidModule(
        `cannot upload ${source}: give a path, a file: or http(s): URL, or { name, source }`,
      );
    }
    const path = source instanceof URL ? fileURLToPath(source) : source;
    const label = String(source);
    const name = basename(path);
    checkModuleName(name, label);
    let data: Uint8Array;
    try {
      data = await Deno.readFile(path);
    } catch (e) {
      throw new InvalidModule(
        `cannot read the module ${label}: ${e instanceof Error ? e.message : e}`,
        { cause: e },
      );
    }
    return { name, label, data };
  }
  if (source === null || typeof source !== "object" || typeof source.name !== "string") {
    throw new InvalidModule(
      "uploadFile() takes a path or { name, source }, e.g. " +
        '{ name: "flood_severity.py", source: "def classify(x): ..." }',
    );
  }
  checkModuleName(source.name, source.name);
  const data = typeof source.source === "string"
    ? new TextEncoder().encode(source.source)
    : source.source;
  if (!(data instanceof Uint8Array)) {
    throw new InvalidModule(`the source of ${source.name} must be a string or Uint8Array`);
  }
  return { name: source.name, label: source.name, data };
}

/** How long fetching a module by URL may take. */
const FETCH_TIMEOUT_MS = 30_000;

async function fetchModuleFile(url: URL): Promise<ModuleFile> {
  const label = url.href;
  const name = decodeURIComponent(url.pathname.split("/").pop() ?? "");
  checkModuleName(name, label);
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`HTTP ${response.status} ${response.statusText}`);
    }
    return { name, label, data: new Uint8Array(await response.arrayBuffer()) };
  } catch (e) {
    throw new InvalidModule(
      `cannot fetch the module ${label}: ${e instanceof Error ? e.message : e}`,
      { cause: e },
    );
  }
}

function checkModuleName(name: string, label: string): void {
  const m = /^(.+)\.(py|zip|egg)$/.exec(name);
  if (!m || name.includes("/") || name.includes("\\")) {
    throw new InvalidModule(
      `cannot upload ${label}: give a Python file "name.py" (or a .zip/.egg archive)`,
    );
  }
  if (m[2] === "py" && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(m[1])) {
    throw new InvalidModule(
      `cannot upload ${label}: "${m[1]}" is not a module name Python can import; use letters, ` +
        `digits and underscores, e.g. "flood_severity.py"`,
    );
  }
}

/**
 * Uploads a module to the scheduler and every worker (now and later ones) and imports it there.
 * @throws {InvalidModuleSyntax} when Python cannot compile it (file, line, text).
 * @throws {ModuleImportFailed} when importing it fails otherwise (missing package, error at
 *   import time), naming where.
 */
export async function uploadModule(
  ctx: ClientContext,
  module: ModuleFile,
  options: UploadFileOptions = {},
): Promise<UploadedModule> {
  const timeoutMs = options.timeoutMs ?? ctx.timeoutMs;
  const name = `dedl-upload-${module.name}`;
  const state = { filename: module.name, load: true, data: module.data };
  // The scheduler first: a module that does not import stops here, before any worker has it.
  try {
    await ctx.call({
      op: "register_scheduler_plugin",
      plugin: dumps(new PyInstance(SCHEDULER_UPLOAD_FILE, state)),
      name,
      idempotent: false,
    }, timeoutMs);
  } catch (e) {
    if (!(e instanceof RpcFailed)) throw e;
    throw moduleFailure(module.label, "the scheduler", exceptionOf(e), e);
  }
  let responses: unknown;
  try {
    responses = await ctx.call({
      op: "register_worker_plugin",
      plugin: dumps(new PyInstance(UPLOAD_FILE, state)),
      name,
      ...(ctx.dialect.pluginIdempotent ? { idempotent: false } : {}),
    }, timeoutMs);
  } catch (e) {
    await unregister(ctx, name, timeoutMs);
    throw e;
  }
  const entries = responses instanceof Map
    ? [...responses].map(([k, v]) => [String(k), v] as const)
    : Object.entries(responses ?? {});
  const failed = entries.find(([, r]) => isPlainObject(r) && r.status === "error");
  if (failed) {
    await unregister(ctx, name, timeoutMs);
    const reply = failed[1] as Record<string, unknown>;
    throw moduleFailure(
      module.label,
      `worker ${failed[0]}`,
      decodeRemoteException(reply.exception, reply.traceback),
    );
  }
  return { name: module.name, bytes: module.data.length, workers: entries.map(([w]) => w) };
}

/** Removes both plugins again (best effort: the error being reported matters more). */
async function unregister(ctx: ClientContext, name: string, timeoutMs: number): Promise<void> {
  await Promise.allSettled([
    ctx.call({ op: "unregister_worker_plugin", name }, timeoutMs),
    ctx.call({ op: "unregister_scheduler_plugin", name }, timeoutMs),
  ]);
}

/** The Python exception an RPC error carries (revived by the RPC pool), or its text. */
function exceptionOf(e: RpcFailed): RemoteException {
  const cause = e.cause as { type?: unknown } | undefined;
  if (cause && typeof cause.type === "string") {
    return decodeRemoteException(cause, e.tracebackText);
  }
  const m = /^(\w+)\((.*)\)$/s.exec(e.exceptionText);
  return {
    type: m?.[1] ?? "Exception",
    module: "",
    message: m?.[2] ?? e.exceptionText,
    traceback: e.tracebackText,
  };
}

function moduleFailure(
  label: string,
  where: string,
  remote: RemoteException,
  cause?: unknown,
): InvalidModuleSyntax | ModuleImportFailed {
  if (SYNTAX_ERRORS.has(remote.type) && remote.exception) {
    // SyntaxError(msg, (filename, lineno, offset, text, end_lineno, end_offset))
    const [msg, details] = remote.exception.args as [unknown, unknown];
    const d = Array.isArray(details) ? details : [];
    return new InvalidModuleSyntax(
      label,
      toInt(d[1]),
      toInt(d[2]),
      typeof d[3] === "string" ? d[3] : "",
      typeof msg === "string" ? msg : remote.message,
      { cause: cause ?? remote.exception },
    );
  }
  return new ModuleImportFailed(
    label,
    where,
    remote.type,
    remote.message,
    remote.traceback,
    { cause: cause ?? remote.exception },
  );
}

function toInt(v: unknown): number {
  return typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : 0;
}
