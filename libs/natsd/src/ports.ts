import { createServer } from "node:net";

// Ports this process already handed out. The OS may give the same ephemeral port to two
// back-to-back listen(0) calls once the first probe socket is closed, and a cluster asks
// for nine ports before any server binds one, so duplicates must be refused here.
const handedOut = new Set<number>();

function tryListen(port: number, host: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(undefined));
    server.listen({ port, host, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === "object" && address !== null ? address.port : undefined;
      server.close(() => resolve(bound));
    });
  });
}

/**
 * Returns `preferred` if it can be bound on `host` right now, else a free port chosen by
 * the OS (never one this process handed out before). The port is free when checked; another
 * process may still take it before the caller binds it, so callers that choose ports
 * automatically should retry on "address already in use".
 */
export async function freePort(preferred?: number, host = "127.0.0.1"): Promise<number> {
  if (preferred !== undefined && preferred > 0) {
    const bound = await tryListen(preferred, host);
    if (bound !== undefined) return bound;
  }
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await tryListen(0, host);
    if (port === undefined) throw new Error(`cannot bind any port on ${host}`);
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`the OS kept offering ports already handed out on ${host}`);
}
