/**
 * The shipped nats-server config (config/nats-server.conf) made fit for a test run: its
 * fixed store dir removed (nats-server 2.9 refuses `-sd` beside one, and the testkit adds
 * `-js -sd <temp dir>`) and its WebSocket listener moved from 8080 to a port of the
 * test's, on loopback, since `-p` and `-m` have no WebSocket counterpart.
 */

/** `shipped` with no `store_dir` line and its `websocket {}` block on `websocketPort` at 127.0.0.1. */
export function testNatsConfig(shipped: string, websocketPort: number): string {
  const storeDir = /^\s*store_dir:.*$/gm;
  const websocket = /websocket \{\n(\s*)port: \d+/;
  if ((shipped.match(storeDir) ?? []).length !== 1 || !websocket.test(shipped)) {
    throw new Error("the shipped config no longer has one store_dir line and a websocket block: update testNatsConfig");
  }
  return shipped
    .replace(storeDir, "")
    .replace(
      websocket,
      (_m, indent: string) => `websocket {\n${indent}host: "127.0.0.1"\n${indent}port: ${websocketPort}`,
    );
}
