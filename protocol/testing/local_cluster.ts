/**
 * Test fixture: a real Dask scheduler and workers in separate Python processes, started from a
 * replica Python environment on 127.0.0.1 with random ports, and killed on dispose.
 *
 * ```ts
 * await using cluster = await LocalCluster.start({ era: "current" });
 * await using client = await Client.connect(cluster.address);
 * ```
 * @module
 */
import { fileURLToPath } from "node:url";
import { sleep } from "../../base/mod.ts";
import { pythonEnv, type PythonEra } from "../../tests/replica/python_env.ts";
import type { TlsMaterial } from "../connection/transport.ts";
import { makeTlsKeypair } from "./tls_keypair.ts";

/** Options of {@link LocalCluster.start}. */
export interface LocalClusterOptions {
  /** Python environment (dask/distributed version). Default `"dedl"` (DEDL's stack). */
  readonly era?: PythonEra;
  /** Number of worker processes. Default 1. */
  readonly workers?: number;
  /** Threads per worker. Default 2. */
  readonly threadsPerWorker?: number;
  /**
   * Serve `tls://` with a fresh self-signed, non-CA certificate for the name `local-cluster`
   * (mutual TLS required), like a dask-gateway cluster.
   */
  readonly tls?: boolean;
  /**
   * Make scheduler and workers compress their traffic with this codec. Workers then listen on
   * 127.0.0.2, because Dask never compresses between two ends on the same IP.
   */
  readonly workerCompression?: "lz4" | "zlib";
  /** Milliseconds to wait for each process to serve. Default 120 000. */
  readonly readyTimeoutMs?: number;
  /**
   * Run each worker under a nanny (a supervising process that restarts it, e.g. for
   * `client.restart()`), as `dask worker` does by default. Default `false`.
   */
  readonly nanny?: boolean;
  /**
   * A folder put first on the workers' `PYTHONPATH` (not the scheduler's), e.g. one holding
   * another release of a package, for workers whose software differs from the scheduler's.
   */
  readonly workerPythonPath?: string;
}

const PROCESS_SCRIPT = fileURLToPath(new URL("./dask_process.py", import.meta.url));
const LOG_TAIL = 64 * 1024;

/** A running scheduler with its workers. Dispose to kill every process it started. */
export class LocalCluster implements AsyncDisposable {
  private constructor(
    /** The scheduler's address, e.g. `tcp://127.0.0.1:40123`. */
    readonly address: string,
    /** TLS material for `tls://` clusters (CA = the certificate itself, as in dask-gateway). */
    readonly tls: TlsMaterial | undefined,
    /** Python executable of the environment used. */
    readonly python: string,
    private readonly scheduler: DaskProcess,
    private readonly workers: DaskProcess[],
    private readonly tmpDir: string,
    private readonly nannyGraceMs: number,
    private readonly spawnWorker: (i: number) => DaskProcess,
    private readonly readyMs: number,
  ) {}

  /**
   * Starts one more worker (as the cluster's others) and returns its address, e.g. to check
   * what a worker that joins later gets. With `nanny`, the address is the nanny's.
   */
  async addWorker(): Promise<string> {
    const w = this.spawnWorker(this.workers.length);
    this.workers.push(w);
    return await w.ready(this.readyMs);
  }

  /** Starts a scheduler and its workers and waits until all serve. */
  static async start(options: LocalClusterOptions = {}): Promise<LocalCluster> {
    const python = await pythonEnv(options.era ?? "dedl");
    const readyMs = options.readyTimeoutMs ?? 120_000;
    const tmpDir = await Deno.makeTempDir({ prefix: "dedl-dask-cluster-" });
    const env: Record<string, string> = {
      PYTHONUNBUFFERED: "1",
      DASK_TEMPORARY_DIRECTORY: tmpDir,
    };
    if (options.workerCompression) {
      env.DASK_DISTRIBUTED__COMM__COMPRESSION = options.workerCompression;
    }
    let tls: TlsMaterial | undefined;
    const started: DaskProcess[] = [];
    try {
      const tlsArgs: string[] = [];
      if (options.tls) {
        tls = await makeTlsKeypair(tmpDir, "local-cluster");
        tlsArgs.push(tmpDir);
      }
      const scheduler = DaskProcess.spawn("scheduler", python, ["scheduler", ...tlsArgs], env);
      started.push(scheduler);
      const address = await scheduler.ready(readyMs);
      const host = options.workerCompression ? "127.0.0.2" : "127.0.0.1";
      const nthreads = String(options.threadsPerWorker ?? 2);
      const spawnWorker = (i: number) => {
        const workerEnv = options.workerPythonPath
          ? { ...env, PYTHONPATH: options.workerPythonPath }
          : env;
        return DaskProcess.spawn(
          `worker ${i}`,
          python,
          [options.nanny ? "nanny" : "worker", address, host, nthreads, ...tlsArgs],
          workerEnv,
        );
      };
      const workers = Array.from({ length: options.workers ?? 1 }, (_, i) => {
        const w = spawnWorker(i);
        started.push(w);
        return w;
      });
      await Promise.all(workers.map((w) => w.ready(readyMs)));
      return new LocalCluster(
        address,
        tls,
        python,
        scheduler,
        workers,
        tmpDir,
        options.nanny ? 15_000 : 0,
        spawnWorker,
        readyMs,
      );
    } catch (e) {
      await Promise.all(started.map((p) => p.kill(options.nanny ? 15_000 : 0)));
      await Deno.remove(tmpDir, { recursive: true }).catch(() => {});
      throw e;
    }
  }

  /** Kills the scheduler process with SIGKILL (simulates a crash); workers keep running. */
  async killScheduler(): Promise<void> {
    await this.scheduler.kill();
  }

  /** Sends a signal to the scheduler process, e.g. `SIGSTOP` to make it hang. */
  signalScheduler(signal: Deno.Signal): void {
    this.scheduler.signal(signal);
  }

  /** The last output of every process, for test failure messages. */
  logs(): string {
    return [this.scheduler, ...this.workers].map((p) => p.log()).join("\n");
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.all(this.workers.map((p) => p.kill(this.nannyGraceMs)));
    await this.scheduler.kill();
    await Deno.remove(this.tmpDir, { recursive: true }).catch(() => {});
  }
}

/** One spawned Python process with its output drained into a bounded tail. */
class DaskProcess {
  #tail = "";
  #lines: string[] = [];
  #lineWaiter: (() => void) | undefined;
  #exited = false;
  readonly #drained: Promise<void>;

  private constructor(readonly name: string, private readonly child: Deno.ChildProcess) {
    this.#drained = Promise.all([
      this.#drain(child.stdout, true),
      this.#drain(child.stderr, false),
    ]).then(() => {});
    child.status.then(() => {
      this.#exited = true;
      this.#lineWaiter?.();
    });
  }

  static spawn(name: string, python: string, args: string[], env: Record<string, string>) {
    const child = new Deno.Command(python, {
      args: [PROCESS_SCRIPT, ...args],
      env,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return new DaskProcess(name, child);
  }

  /** Waits for the `{"address": …}` line and returns the address. */
  async ready(timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.#lines.shift();
      if (line !== undefined) {
        try {
          const parsed = JSON.parse(line);
          if (typeof parsed?.address === "string") return parsed.address;
        } catch {
          // not our status line
        }
        continue;
      }
      if (this.#exited) throw new Error(`${this.name} exited before serving:\n${this.log()}`);
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`${this.name} did not serve within ${timeoutMs} ms:\n${this.log()}`);
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#lineWaiter = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  signal(signal: Deno.Signal): void {
    if (!this.#exited) this.child.kill(signal);
  }

  /**
   * SIGKILLs the process (if still running) and waits for it and its output pipes. With
   * `graceMs`, it first closes stdin and waits that long for the process to close by itself (a
   * nanny stops its worker process that way).
   */
  async kill(graceMs = 0): Promise<void> {
    if (graceMs > 0 && !this.#exited) {
      await this.child.stdin.close().catch(() => {});
      const waited = new AbortController();
      await Promise.race([this.child.status, sleep(graceMs, waited.signal)]);
      waited.abort(); // clears the timer when the process closed first
    }
    if (!this.#exited) {
      try {
        this.child.kill("SIGKILL");
      } catch {
        // exited meanwhile
      }
    }
    await this.child.stdin.close().catch(() => {});
    await this.child.status;
    await this.#drained;
  }

  log(): string {
    return `--- ${this.name} ---\n${this.#tail}`;
  }

  async #drain(stream: ReadableStream<Uint8Array>, lines: boolean): Promise<void> {
    const decoder = new TextDecoder();
    let partial = "";
    for await (const chunk of stream) {
      const text = decoder.decode(chunk, { stream: true });
      this.#tail = (this.#tail + text).slice(-LOG_TAIL);
      if (!lines) continue;
      partial += text;
      const parts = partial.split("\n");
      partial = parts.pop() ?? "";
      this.#lines.push(...parts);
      this.#lineWaiter?.();
    }
  }
}
