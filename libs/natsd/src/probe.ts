import { request } from "node:http";
import { connect } from "node:net";

/** The fields of a NATS server's INFO line that this library and its users read. */
export interface NatsServerInfo {
  server_id: string;
  server_name: string;
  version: string;
  host: string;
  port: number;
  max_payload: number;
  jetstream?: boolean;
  auth_required?: boolean;
  cluster?: string;
  /** Every other field the server sent. */
  [field: string]: unknown;
}

/** Splits `nats://host:port` (or `host:port`) into its parts. */
export function parseNatsUrl(url: string): { host: string; port: number } {
  const parsed = new URL(url.includes("://") ? url : `nats://${url}`);
  const port = parsed.port === "" ? 4222 : Number(parsed.port);
  // WHATWG URL keeps the brackets of an IPv6 host; net.connect wants them gone.
  return { host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"), port };
}

/**
 * Connects to a NATS client port, reads the INFO line the server sends first, and hangs up.
 * Proves that a NATS server (not just any listener) answers there, without a client library.
 */
export function fetchServerInfo(url: string, timeoutMs = 2_000): Promise<NatsServerInfo> {
  const { host, port } = parseNatsUrl(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let buffered = "";
    const fail = (error: Error): void => {
      socket.destroy();
      reject(error);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`no INFO from ${url} within ${timeoutMs} ms`)));
    socket.setEncoding("utf8");
    socket.on("error", fail);
    socket.on("close", () => reject(new Error(`${url} closed the connection before sending INFO`)));
    socket.on("data", (chunk: string) => {
      buffered += chunk;
      const end = buffered.indexOf("\r\n");
      if (end < 0) return;
      socket.destroy();
      const line = buffered.slice(0, end);
      if (!line.startsWith("INFO ")) return reject(new Error(`${url} is not a NATS server: ${line.slice(0, 80)}`));
      try {
        const info: unknown = JSON.parse(line.slice(5));
        if (!isServerInfo(info)) return reject(new Error(`malformed INFO from ${url}: ${line.slice(0, 200)}`));
        resolve(info);
      } catch (error) {
        reject(new Error(`malformed INFO from ${url}`, { cause: error }));
      }
    });
  });
}

function isServerInfo(value: unknown): value is NatsServerInfo {
  if (typeof value !== "object" || value === null) return false;
  const info = value as Record<string, unknown>;
  return typeof info.server_id === "string" && typeof info.version === "string" && typeof info.port === "number";
}

/** Status code and JSON body (undefined if not JSON) of one HTTP GET. */
export interface HttpJson {
  status: number;
  body: unknown;
}

/** One GET on the monitoring port, with a fresh connection so nothing lingers in a pool. */
export function getJson(url: string, timeoutMs = 1_000): Promise<HttpJson> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "GET", agent: false, timeout: timeoutMs }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("end", () => {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}
