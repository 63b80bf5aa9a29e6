/**
 * A small static server for the console's built files, plus `config.json`, which
 * tells the page where nats-server's WebSocket listener is. It serves no
 * credential and proxies nothing: the browser speaks to NATS itself.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** Where build.mjs writes the page (`apps/console/dist/page`). */
export const CONSOLE_WEB_DIR = fileURLToPath(new URL("./page/", import.meta.url));

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
  ".json": "application/json",
  ".png": "image/png",
};

/** Where to listen and what to tell the page. */
export interface ConsoleServerOptions {
  /** Port (0: a free one). */
  port: number;
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** The WebSocket URL of nats-server the page should offer at login, e.g. `ws://127.0.0.1:8080`. */
  natsWsUrl: string;
  /** The stratreg cluster name (default `stratreg`). */
  cluster?: string;
  /** The built page (default {@link CONSOLE_WEB_DIR}). */
  root?: string;
}

/** A running console server. */
export interface ConsoleServer {
  /** The page's URL, e.g. `http://127.0.0.1:8090/`. */
  readonly url: string;
  close(): Promise<void>;
}

/** Serves the console; rejects when the page was not built (run `npm run build`). */
export async function startConsoleServer(options: ConsoleServerOptions): Promise<ConsoleServer> {
  const root = options.root ?? CONSOLE_WEB_DIR;
  const index = join(root, "index.html");
  if (!(await stat(index).catch(() => undefined))?.isFile()) {
    throw new Error(`the console is not built (${index} is missing): run npm run build`);
  }
  const config = JSON.stringify({ natsWsUrl: options.natsWsUrl, cluster: options.cluster ?? "stratreg" });
  const server: Server = createServer((req, res) => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    } catch {
      // A malformed escape is the client's mistake, not a reason to stop serving.
      res.writeHead(400).end();
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405).end();
      return;
    }
    if (path === "/config.json") {
      res.writeHead(200, { "content-type": TYPES[".json"], "cache-control": "no-store" }).end(config);
      return;
    }
    // Only files under root: a `..` that normalises outside it is not found.
    const file = normalize(join(root, path === "/" ? "index.html" : path));
    if (!file.startsWith(root.endsWith(sep) ? root : root + sep)) {
      res.writeHead(404).end();
      return;
    }
    stat(file).then(
      (s) => {
        if (!s.isFile()) {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(200, {
          "content-type": TYPES[extname(file)] ?? "application/octet-stream",
          "content-length": s.size,
          "x-content-type-options": "nosniff",
        });
        if (req.method === "HEAD") res.end();
        else createReadStream(file).pipe(res);
      },
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host === undefined || options.host === "0.0.0.0" ? "127.0.0.1" : options.host;
  return {
    url: `http://${host}:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
