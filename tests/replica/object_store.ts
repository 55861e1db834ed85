/**
 * Each replica site's object store, as DEDL serves its datasets from `https://s3.<site>.…`: an
 * S3-compatible server (S3Proxy 2.6.0 from Maven Central, its `filesystem` backend) with one
 * bucket, `datasets`, holding the site's Zarr stores. Anonymous reads, path-style URLs
 * (`<store>/datasets/flood.zarr/.zmetadata`), writes refused (`read-only-blobstore`); bound to
 * 127.0.0.1. The bucket is a symlink to the site's cached data folder, so nothing is copied.
 * @module
 */
import { join } from "node:path";
import { cacheRoot, exists } from "./cache.ts";

/** The S3Proxy release the replica runs (Java 11 or newer). */
export const S3PROXY_VERSION = "2.6.0";
/** The one bucket of every site's store. */
export const STORE_BUCKET = "datasets";

/** Path of S3Proxy's self-contained jar, downloaded once from Maven Central. */
export async function installS3Proxy(
  run: (cmd: string, args: string[], part: string) => Promise<void>,
): Promise<string> {
  const dir = join(cacheRoot(), "maven");
  const jar = join(dir, `s3proxy-${S3PROXY_VERSION}-jar-with-dependencies.jar`);
  if (await exists(jar)) return jar;
  await run("mvn", [
    "-q",
    "dependency:copy",
    `-Dartifact=org.gaul:s3proxy:${S3PROXY_VERSION}:jar:jar-with-dependencies`,
    `-DoutputDirectory=${dir}`,
  ], "object store install");
  return jar;
}

/** How to start one site's store: the command line and the files it needs. */
export interface ObjectStoreLaunch {
  /** The executable (`java`). */
  readonly cmd: string;
  /** Its arguments. */
  readonly args: string[];
  /** The store's endpoint, `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
}

/**
 * Prepares `<folder>/buckets/datasets` (a symlink to `data`) and the S3Proxy configuration in
 * `folder`, and returns how to start the store on `port`.
 */
export async function prepareObjectStore(
  jar: string,
  folder: string,
  data: string,
  port: number,
): Promise<ObjectStoreLaunch> {
  const buckets = join(folder, "buckets");
  await Deno.remove(folder, { recursive: true }).catch(() => {});
  await Deno.mkdir(buckets, { recursive: true });
  await Deno.symlink(data, join(buckets, STORE_BUCKET));
  const endpoint = `http://127.0.0.1:${port}`;
  const properties = join(folder, "s3proxy.properties");
  await Deno.writeTextFile(
    properties,
    [
      `s3proxy.endpoint=${endpoint}`,
      // Anonymous requests, as DEDL's public buckets; nothing may change the data.
      "s3proxy.authorization=none",
      "s3proxy.read-only-blobstore=true",
      "jclouds.provider=filesystem",
      `jclouds.filesystem.basedir=${buckets}`,
      "",
    ].join("\n"),
  );
  return {
    cmd: "java",
    args: ["-Xmx256m", "-XX:+UseSerialGC", "-jar", jar, "--properties", properties],
    endpoint,
  };
}

/** The URL of a store's dataset `name` (`<endpoint>/datasets/<name>.zarr`). */
export function datasetUrl(endpoint: string, name: string): string {
  return `${endpoint}/${STORE_BUCKET}/${name}.zarr`;
}
