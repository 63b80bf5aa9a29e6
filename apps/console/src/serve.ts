/**
 * The console container's process: serves the built page on CONSOLE_PORT (8090) and
 * tells it NATS_WS_URL (what the operator's browser can reach, e.g. ws://localhost:8080).
 */
import { startConsoleServer } from "./server.js";

const port = Number(process.env.CONSOLE_PORT ?? "8090");
const natsWsUrl = process.env.NATS_WS_URL ?? "ws://localhost:8080";
const server = await startConsoleServer({
  port,
  host: process.env.CONSOLE_HOST ?? "0.0.0.0",
  natsWsUrl,
  cluster: process.env.STRATREG_CLUSTER ?? "stratreg",
});
process.stdout.write(`stratreg console on ${server.url} (NATS over WebSocket: ${natsWsUrl})\n`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void server.close().then(() => process.exit(0)));
}
