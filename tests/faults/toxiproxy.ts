/**
 * Test fixture: a real Toxiproxy server (Shopify's TCP fault injector, built once from its Go
 * module into the cache) on loopback, with proxies in front of replica endpoints and toxics
 * (latency, bandwidth, resets, timeouts) switched on and off through its HTTP API.
 *
 * ```ts
 * await using toxiproxy = await Toxiproxy.start();
 * const proxy = await toxiproxy.proxy("central-api", "127.0.0.1:8000");
 * await proxy.addToxic({ type: "latency", attributes: { latency: 100 } });
 * ```
 * @module
 */
import { join } from "node:path";
import { cacheRoot, exists } from "../replica/cache.ts";
import { freePort } from "../replica/process.ts";

/** The pinned release, built with `go install` from the Go module proxy. */
export const TOXIPROXY_VERSION = "v2.5.0";
const MODULE = "github.com/Shopify/toxiproxy/v2/cmd/server";
const API_TIMEOUT_MS = 10_000;

/** A toxic as Toxiproxy's API takes it (see its README: latency, bandwidth, reset_peer, …). */
export interface ToxicSpec {
  /** `latency`, `bandwidth`, `slow_close`, `timeout`, `reset_peer`, `slicer`, `limit_data`. */
  readonly type: string;
  /** Unique per proxy; default the type and stream. */
  readonly name?: string;
  /** `downstream` (server → client, default) or `upstream` (client → server). */
  readonly stream?: "upstream" | "downstream";
  /** Probability the toxic applies to a connection, 0..1. Default 1. */
  readonly toxicity?: number;
  /** Type-specific settings, e.g. `{ latency: 100, jitter: 0 }` (ms) or `{ rate: 64 }` (KB/s). */
  readonly attributes: Readonly<Record<string, number>>;
}

/** Path of the `toxiproxy-server` binary, building it on first use (about a minute). */
export async function toxiproxyServer(): Promise<string> {
  const root = join(cacheRoot(), `toxiproxy-${TOXIPROXY_VERSION}`);
  const binary = join(root, "bin", "server");
  if (await exists(binary)) return binary;
  const staging = `${root}.partial-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const out = await new Deno.Command("go", {
      args: ["install", `${MODULE}@${TOXIPROXY_VERSION}`],
      env: {
        GOBIN: join(staging, "bin"),
        GOPATH: join(cacheRoot(), "go"),
        GOFLAGS: "-modcacherw",
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(
        `building Toxiproxy ${TOXIPROXY_VERSION} failed (go install ${MODULE}):\n` +
          new TextDecoder().decode(out.stderr).slice(-3000),
      );
    }
    await Deno.rename(staging, root).catch(async (e) => {
      if (!(await exists(binary))) throw e; // else another build finished first
    });
  } finally {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
  }
  return binary;
}

/** A running Toxiproxy server; dispose to stop it (its proxies go with it). */
export class Toxiproxy implements AsyncDisposable {
  private constructor(
    /** The API's base URL, e.g. `http://127.0.0.1:8474`. */
    readonly api: string,
    private readonly child: Deno.ChildProcess,
  ) {}

  /** Starts a server on a free loopback port and waits until its API answers. */
  static async start(): Promise<Toxiproxy> {
    const port = freePort();
    const child = new Deno.Command(await toxiproxyServer(), {
      args: ["-host", "127.0.0.1", "-port", String(port)],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const proxy = new Toxiproxy(`http://127.0.0.1:${port}`, child);
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        await proxy.#call("GET", "/version");
        return proxy;
      } catch (e) {
        if (Date.now() > deadline) {
          await proxy[Symbol.asyncDispose]();
          throw new Error(`Toxiproxy did not answer on port ${port}: ${e}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** A new proxy listening on a free loopback port and forwarding to `upstream` (`host:port`). */
  async proxy(name: string, upstream: string): Promise<ToxicProxy> {
    const listen = `127.0.0.1:${freePort()}`;
    await this.#call("POST", "/proxies", { name, listen, upstream, enabled: true });
    return new ToxicProxy(name, listen, (method, path, body) => this.#call(method, path, body));
  }

  async #call(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.api}${path}`, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: body === undefined ? undefined : { "content-type": "application/json" },
      signal: AbortSignal.timeout(API_TIMEOUT_MS),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`Toxiproxy ${method} ${path}: ${res.status} ${text}`);
    // `/version` answers plain text; the rest JSON.
    return res.headers.get("content-type")?.includes("json") ? JSON.parse(text) : text;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.child.kill("SIGTERM");
    } catch {
      // already gone
    }
    await this.child.status;
  }
}

type ApiCall = (method: string, path: string, body?: unknown) => Promise<unknown>;

/** One proxy of a {@link Toxiproxy} server. */
export class ToxicProxy {
  /** Made by {@link Toxiproxy.proxy}. */
  constructor(
    /** The proxy's name. */
    readonly name: string,
    /** Where clients connect instead of the upstream, `127.0.0.1:port`. */
    readonly listen: string,
    private readonly call: ApiCall,
  ) {}

  /** Adds a toxic; returns its name (for {@link removeToxic}). */
  async addToxic(spec: ToxicSpec): Promise<string> {
    const name = spec.name ?? `${spec.type}_${spec.stream ?? "downstream"}`;
    await this.call("POST", `/proxies/${this.name}/toxics`, {
      name,
      type: spec.type,
      stream: spec.stream ?? "downstream",
      toxicity: spec.toxicity ?? 1,
      attributes: spec.attributes,
    });
    return name;
  }

  /**
   * Removes a toxic by name. Toxiproxy 2.5.0 may not answer (this throws after 10 s) when a
   * connection through the toxic is being torn down at that moment, e.g. right after a client
   * dropped it mid-transfer (Shopify/toxiproxy#412, #558): remove toxics from quiet links only.
   */
  async removeToxic(name: string): Promise<void> {
    await this.call("DELETE", `/proxies/${this.name}/toxics/${name}`);
  }

  /** Cuts the link (open connections are closed, new ones refused) or restores it. */
  async setEnabled(enabled: boolean): Promise<void> {
    await this.call("POST", `/proxies/${this.name}`, { enabled });
  }
}
