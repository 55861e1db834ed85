/**
 * Parsing of Dask scheduler addresses: `tcp://host:port`, `tls://host:port` and
 * `gateway://proxyhost:port/<cluster-name>`.
 * @module
 */
import { InvalidAddress } from "../errors.ts";

/** Transport scheme of a scheduler address. */
export type AddressScheme = "tcp" | "tls" | "gateway";

/** A parsed scheduler address. */
export interface SchedulerAddress {
  /** Transport: plain TCP, mutual TLS, or TLS through a dask-gateway SNI proxy. */
  readonly scheme: AddressScheme;
  /** Host name or IP address (IPv6 without brackets). */
  readonly host: string;
  /** TCP port. */
  readonly port: number;
  /** For `gateway://`: the cluster name (routed by SNI `daskgateway-<name>`). */
  readonly clusterName?: string;
}

const SCHEMES: readonly AddressScheme[] = ["tcp", "tls", "gateway"];

/**
 * Parses a scheduler address. A bare `host:port` means `tcp://host:port`, as in Dask.
 * IPv6 hosts are written in brackets: `tcp://[::1]:8786`.
 *
 * @throws {InvalidAddress} naming what is wrong with the address.
 */
export function parseAddress(address: string): SchedulerAddress {
  const text = address.trim();
  const sep = text.indexOf("://");
  const scheme = sep < 0 ? "tcp" : text.slice(0, sep).toLowerCase();
  if (!(SCHEMES as readonly string[]).includes(scheme)) {
    throw new InvalidAddress(
      `unsupported scheme "${scheme}" in address "${address}"; use tcp://, tls:// or gateway://`,
    );
  }
  const rest = sep < 0 ? text : text.slice(sep + 3);
  const slash = rest.indexOf("/");
  const hostPort = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? "" : rest.slice(slash + 1);
  const { host, port } = splitHostPort(hostPort, address);
  if (scheme === "gateway") {
    const clusterName = path.replace(/\/+$/, "");
    if (!clusterName || clusterName.includes("/")) {
      throw new InvalidAddress(
        `gateway address "${address}" needs exactly one cluster name after the port, ` +
          `e.g. gateway://proxy.example.org:443/my-cluster`,
      );
    }
    return { scheme, host, port, clusterName };
  }
  if (path.replace(/\/+$/, "") !== "") {
    throw new InvalidAddress(
      `address "${address}" has a path; only gateway:// addresses carry a cluster name`,
    );
  }
  return { scheme: scheme as AddressScheme, host, port };
}

/** Formats a parsed address back to its canonical string form. */
export function formatAddress(a: SchedulerAddress): string {
  const host = a.host.includes(":") ? `[${a.host}]` : a.host;
  const base = `${a.scheme}://${host}:${a.port}`;
  return a.clusterName === undefined ? base : `${base}/${a.clusterName}`;
}

function splitHostPort(hostPort: string, address: string): { host: string; port: number } {
  let host: string;
  let portText: string;
  if (hostPort.startsWith("[")) {
    const close = hostPort.indexOf("]");
    if (close < 0 || hostPort[close + 1] !== ":") {
      throw new InvalidAddress(
        `address "${address}" has a malformed IPv6 host; write it as [addr]:port`,
      );
    }
    host = hostPort.slice(1, close);
    portText = hostPort.slice(close + 2);
  } else {
    const colon = hostPort.lastIndexOf(":");
    if (colon < 0) {
      throw new InvalidAddress(
        `address "${address}" has no port; write it as host:port, e.g. tcp://127.0.0.1:8786`,
      );
    }
    host = hostPort.slice(0, colon);
    portText = hostPort.slice(colon + 1);
    if (host.includes(":")) {
      throw new InvalidAddress(
        `address "${address}" looks like an IPv6 address without brackets; write [addr]:port`,
      );
    }
  }
  if (!host) throw new InvalidAddress(`address "${address}" has no host`);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
    throw new InvalidAddress(
      `address "${address}" has an invalid port "${portText}"; expected 1-65535`,
    );
  }
  return { host, port };
}
