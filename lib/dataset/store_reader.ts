/**
 * Reads the keys of one Zarr store, over HTTP or from local files, for zarrita (it has zarrita's
 * `get(key)` shape) and for listing a store that has no consolidated metadata. Every request has
 * a timeout, and failures become {@link StoreUnreachable} naming the URL and the real cause.
 * @module
 */
import { InvalidStoreMetadata, StoreUnreachable } from "./errors.ts";
import type { StoreAddress } from "./store_address.ts";

/** Settings of a {@link StoreReader}. */
export interface StoreReaderOptions {
  /** Budget of each request in milliseconds. */
  readonly timeoutMs: number;
  /** The `fetch` for HTTP stores. Default: the global one. */
  readonly fetch?: typeof fetch;
}

/** A key of a store: `/` then the path inside the store (zarrita's `AbsolutePath`). */
export type StoreKey = `/${string}`;

/** The keys of one store, read on demand. */
export class StoreReader {
  readonly #address: StoreAddress;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;
  #forbidden = false;

  /** A reader of the store at `address`. */
  constructor(address: StoreAddress, options: StoreReaderOptions) {
    this.#address = address;
    this.#timeoutMs = options.timeoutMs;
    this.#fetch = options.fetch ?? fetch;
  }

  /** The store's URL or path. */
  get url(): string {
    return this.#address.url;
  }

  /** Whether an HTTP read was refused (403): a missing key then looks the same as a private one. */
  get forbidden(): boolean {
    return this.#forbidden;
  }

  /**
   * The bytes of `key`, or `undefined` when the store has no such key.
   * @throws {StoreUnreachable} on network errors, timeouts, HTTP errors other than 403/404, and
   *   unreadable files.
   */
  async get(
    key: StoreKey,
    options: { signal?: AbortSignal } = {},
  ): Promise<Uint8Array | undefined> {
    if (this.#address.kind === "local") return await this.#readFile(key);
    const response = await this.#request(`${this.#address.url}${key}`, key, options.signal);
    if (response.status === 404 || response.status === 403) {
      if (response.status === 403) this.#forbidden = true;
      await response.body?.cancel();
      return undefined;
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new StoreUnreachable(
        this.url,
        `HTTP ${response.status} ${response.statusText} reading ${key.slice(1)}`,
      );
    }
    return await this.#body(response, key);
  }

  /**
   * Names of the store's top-level children (the arrays of its root group): sub-folders of a
   * local store, or the common prefixes of an S3 `ListObjectsV2` request (path-style URL).
   * @throws {InvalidStoreMetadata} when an HTTP store cannot be listed.
   */
  async listChildren(): Promise<string[]> {
    if (this.#address.kind === "local") {
      const names: string[] = [];
      try {
        for await (const entry of Deno.readDir(this.url)) {
          if (entry.isDirectory && !entry.name.startsWith(".")) names.push(entry.name);
        }
      } catch (e) {
        throw new StoreUnreachable(this.url, `cannot list the folder: ${(e as Error).message}`, {
          cause: e,
        });
      }
      return names.sort();
    }
    return await this.#listS3();
  }

  async #listS3(): Promise<string[]> {
    const url = new URL(this.url);
    const [bucket, ...rest] = url.pathname.split("/").filter(Boolean);
    const cannot = (why: string) =>
      new InvalidStoreMetadata(
        this.url,
        `the store has no consolidated metadata (.zmetadata) and cannot be listed (${why}); ` +
          "consolidate it (Python: zarr.consolidate_metadata(store)) or open a local copy",
      );
    if (!bucket || rest.length === 0) {
      throw cannot("not a path-style URL <endpoint>/<bucket>/<path>");
    }
    const prefix = `${rest.join("/")}/`;
    const names: string[] = [];
    let token: string | undefined;
    do {
      const query = new URLSearchParams({ "list-type": "2", delimiter: "/", prefix });
      if (token) query.set("continuation-token", token);
      const listUrl = `${url.origin}/${bucket}?${query}`;
      const response = await this.#request(listUrl, "the listing");
      const text = new TextDecoder().decode(await this.#body(response, "the listing"));
      if (!response.ok || !text.includes("<ListBucketResult")) {
        throw cannot(`S3 ListObjectsV2 answered HTTP ${response.status}`);
      }
      for (const m of text.matchAll(/<CommonPrefixes>\s*<Prefix>([^<]*)<\/Prefix>/g)) {
        const name = xmlText(m[1]).slice(prefix.length).replace(/\/$/, "");
        if (name && !name.startsWith(".")) names.push(name);
      }
      token = /<IsTruncated>true<\/IsTruncated>/.test(text)
        ? xmlText(/<NextContinuationToken>([^<]*)</.exec(text)?.[1] ?? "")
        : undefined;
    } while (token);
    return names.sort();
  }

  async #request(url: string, what: string, signal?: AbortSignal): Promise<Response> {
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    try {
      return await this.#fetch(url, {
        signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
      });
    } catch (e) {
      throw this.#failure(e, what, timeout);
    }
  }

  async #body(response: Response, what: string): Promise<Uint8Array> {
    try {
      return new Uint8Array(await response.arrayBuffer());
    } catch (e) {
      throw this.#failure(e, what);
    }
  }

  #failure(e: unknown, what: string, timeout?: AbortSignal): StoreUnreachable {
    const label = what.startsWith("/") ? what.slice(1) : what;
    if (timeout?.aborted || (e instanceof DOMException && e.name === "TimeoutError")) {
      return new StoreUnreachable(
        this.url,
        `no answer within ${this.#timeoutMs} ms reading ${label}`,
        { cause: e },
      );
    }
    return new StoreUnreachable(
      this.url,
      `reading ${label} failed: ${(e as Error).message ?? e}`,
      { cause: e },
    );
  }

  async #readFile(key: StoreKey): Promise<Uint8Array | undefined> {
    try {
      return await Deno.readFile(`${this.url}${key}`);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) {
        return undefined;
      }
      throw new StoreUnreachable(this.url, `cannot read ${key.slice(1)}: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }
}

function xmlText(s: string): string {
  return s.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&quot;", '"')
    .replaceAll("&apos;", "'").replaceAll("&amp;", "&");
}
