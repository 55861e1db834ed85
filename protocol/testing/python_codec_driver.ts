/**
 * One long-lived Python process (a replica environment: real dask/distributed, numpy, lz4) that
 * runs snippets for the codec golden tests, so each test pays Python's start-up once. Bytes
 * travel as base64 inside JSON lines; see python_codec_driver.py.
 * @module
 */

import { Buffer } from "node:buffer";
import { pythonEnv, type PythonEra } from "../../tests/replica/python_env.ts";

/** The environments the golden tests run in: DEDL's stack and the newest release. */
export const CODEC_ERAS: readonly PythonEra[] = ["dedl", "current"];

/** Longest a single snippet may run before the test fails. */
const CALL_TIMEOUT_MS = 120_000;

/** A running Python driver process. */
export class PythonCodecDriver {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #lines: AsyncIterator<string>;
  readonly #stderr: Promise<string>;

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#writer = child.stdin.getWriter();
    this.#lines = readLines(child.stdout)[Symbol.asyncIterator]();
    this.#stderr = new Response(child.stderr).text();
  }

  /** Starts the driver in an environment (default the newest). */
  static async start(era: PythonEra = "current"): Promise<PythonCodecDriver> {
    const python = await pythonEnv(era);
    const script = new URL("./python_codec_driver.py", import.meta.url).pathname;
    const child = new Deno.Command(python, {
      args: ["-u", script],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return new PythonCodecDriver(child);
  }

  /**
   * Runs `code` with `args` bound (Uint8Array → bytes, bigint → int) and returns its `result`
   * (bytes → Uint8Array, ints beyond 2⁵³ → bigint, dicts with non-str keys → Map).
   * @throws {Error} with Python's traceback when the snippet raises.
   */
  async run<T = unknown>(code: string, args: Record<string, unknown> = {}): Promise<T> {
    const line = JSON.stringify({ code, args: toJson(args) }) + "\n";
    await this.#writer.write(new TextEncoder().encode(line));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Python snippet did not answer within ${CALL_TIMEOUT_MS} ms`)),
        CALL_TIMEOUT_MS,
      );
    });
    try {
      const next = await Promise.race([this.#lines.next(), timeout]);
      if (next.done) throw new Error(`Python driver exited:\n${await this.#stderr}`);
      const response = JSON.parse(next.value);
      if ("error" in response) throw new Error(`Python snippet failed:\n${response.error}`);
      return fromJson(response.result) as T;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes stdin (the driver exits) and waits for the process. */
  async close(): Promise<void> {
    await this.#writer.close();
    await this.#child.status;
    await this.#stderr;
  }
}

async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let pending = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf("\n")) >= 0) {
      yield pending.slice(0, nl);
      pending = pending.slice(nl + 1);
    }
  }
}

function toJson(v: unknown): unknown {
  if (v instanceof Uint8Array) {
    return { $b: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64") };
  }
  if (typeof v === "bigint") return { $int: String(v) };
  if (Array.isArray(v)) return v.map(toJson);
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJson(x)]));
  }
  return v;
}

function fromJson(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(fromJson);
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (typeof o.$b === "string") return new Uint8Array(Buffer.from(o.$b, "base64"));
    if (typeof o.$int === "string") return BigInt(o.$int);
    if (Array.isArray(o.$map)) {
      return new Map((o.$map as unknown[][]).map(([k, x]) => [fromJson(k), fromJson(x)]));
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, fromJson(x)]));
  }
  return v;
}
