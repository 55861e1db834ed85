/**
 * A short-lived dask-gateway-server of our own for tests that stop a gateway or make clusters
 * fail — never the shared replica's. It runs the replica's site configuration
 * (`tests/replica/gateway_config.py`) on a free port, against the replica's Keycloak, with an
 * optional configuration appended.
 * @module
 */
import { join } from "node:path";
import { gatewayImages, readEndpoints, REPO_ROOT } from "../../../tests/replica/endpoints.ts";
import { isAlive, pidsWithEnv } from "../../../tests/replica/process.ts";

/** A running gateway started by {@link startGatewayServer}. */
export interface GatewayServer extends AsyncDisposable {
  /** HTTP API address, `http://127.0.0.1:<port>`. */
  readonly address: string;
  /** Scheduler proxy address (the same port), `tcp://127.0.0.1:<port>`. */
  readonly proxyAddress: string;
  /** The gateway's process id (a new one after {@link restart}). */
  readonly pid: number;
  /** The gateway's log so far (every run's, after a restart). */
  log(): string;
  /**
   * Stops the gateway process (SIGTERM, as an orchestrator replacing it would; SIGKILL after
   * 15 s) and starts it again on the same port, with the same configuration and folders. What
   * becomes of its clusters' processes is the gateway's business: with the replica's
   * configuration it stops them first; with `stop_clusters_on_shutdown = False` and a database
   * file they keep running and the new process takes them over.
   */
  restart(): Promise<void>;
  /** Stops the gateway (SIGTERM; it stops its clusters) and kills any process it left behind. */
  stop(): Promise<void>;
}

/** Options of {@link startGatewayServer}. */
export interface GatewayServerOptions {
  /** `DEDL_SITE` of the gateway's clusters. Default `test`. */
  readonly site?: string;
  /** Python configuration lines run after the replica's configuration (`c` is the config). */
  readonly extraConfig?: string;
  /**
   * The Python that runs dask-gateway-server, i.e. which release of it (see
   * `gatewayServerEnv`). Default: the replica's own (DEDL's 2023.1.1). Clusters run the images'
   * Pythons whatever this is, as on DEDL, where the gateway and the images are built apart.
   */
  readonly python?: string;
  /** Deadline for the gateway to answer `/api/health`. Default 60 000 ms. */
  readonly startTimeoutMs?: number;
}

/** Starts a gateway and waits until it is healthy through its proxy. */
export async function startGatewayServer(
  options: GatewayServerOptions = {},
): Promise<GatewayServer> {
  const ep = await readEndpoints();
  const dir = await Deno.makeTempDir({ prefix: "dedl-gateway-test-" });
  const replicaConfig = join(REPO_ROOT, "tests", "replica", "gateway_config.py");
  let config = replicaConfig;
  if (options.extraConfig) {
    config = join(dir, "gateway_config.py");
    await Deno.writeTextFile(
      config,
      `c = get_config()  # noqa: F821\nload_subconfig(${
        JSON.stringify(replicaConfig)
      })  # noqa: F821\n` +
        options.extraConfig,
    );
  }
  const port = freePort();
  const id = `gateway-test-${crypto.randomUUID()}`;
  const env = {
    DEDL_SITE: options.site ?? "test",
    DEDL_GATEWAY_PORT: String(port),
    DEDL_ISSUER: ep.issuer,
    DEDL_JWKS_URL: ep.jwks_url,
    DEDL_SITE_DATA: dir,
    DEDL_CLUSTERS_DIR: join(dir, "clusters"),
    DEDL_REPLICA_ID: id,
    DEDL_IMAGES: gatewayImages(ep),
  };
  let output = "";
  const decoder = new TextDecoder();

  /** One run of the gateway process. */
  const launch = () => {
    const child = new Deno.Command(options.python ?? ep.python, {
      args: ["-m", "dask_gateway_server", "-f", config],
      cwd: dir,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const drain = (stream: ReadableStream<Uint8Array>) =>
      stream.pipeTo(
        new WritableStream({ write: (chunk) => void (output += decoder.decode(chunk)) }),
      ).catch(() => {});
    const run = {
      child,
      exited: false,
      drained: Promise.all([drain(child.stdout), drain(child.stderr)]),
      status: undefined as unknown as Promise<Deno.CommandStatus>,
    };
    run.status = child.status.then((s) => {
      run.exited = true;
      return s;
    });
    return run;
  };
  let run = launch();

  /** Ends the current run: SIGTERM, SIGKILL after 15 s. */
  const terminate = async () => {
    const current = run;
    if (!current.exited) {
      try {
        current.child.kill("SIGTERM");
      } catch {
        // already gone
      }
    }
    const killTimer = setTimeout(() => {
      if (!current.exited) current.child.kill("SIGKILL");
    }, 15_000);
    await current.status;
    clearTimeout(killTimer);
    await current.drained;
  };

  let stopping: Promise<void> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      await terminate();
      // Schedulers and workers run in their own sessions; reap any the gateway left behind.
      for (const pid of pidsWithEnv("DEDL_REPLICA_ID", id)) {
        if (isAlive(pid)) Deno.kill(pid, "SIGKILL");
      }
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    })();

  const address = `http://127.0.0.1:${port}`;
  const waitHealthy = async () => {
    const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
    for (;;) {
      if (run.exited) {
        await stop();
        throw new Error(`dask-gateway-server exited during start:\n${output.slice(-3000)}`);
      }
      const ok = await fetch(`${address}/api/health`, { signal: AbortSignal.timeout(2_000) })
        .then(async (r) => (await r.body?.cancel(), r.status === 200), () => false);
      if (ok) return;
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`dask-gateway-server not healthy in time:\n${output.slice(-3000)}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  await waitHealthy();
  return {
    address,
    proxyAddress: `tcp://127.0.0.1:${port}`,
    get pid() {
      return run.child.pid;
    },
    log: () => output,
    restart: async () => {
      if (stopping) throw new Error("the gateway was stopped");
      await terminate();
      run = launch();
      await waitHealthy();
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** A TCP port nothing listens on right now. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * A TCP server that accepts connections and never answers, to test timeouts. Dispose to close
 * it and every connection it holds.
 */
export function silentServer(): { address: string; port: number } & Disposable {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  (async () => {
    try {
      for await (const conn of listener) conns.push(conn);
    } catch {
      // closed
    }
  })();
  const port = (listener.addr as Deno.NetAddr).port;
  return {
    address: `http://127.0.0.1:${port}`,
    port,
    [Symbol.dispose]() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch {
          // already closed
        }
      }
    },
  };
}
