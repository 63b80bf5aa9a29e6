/**
 * The raw request/reply baseline: a separate process that answers every request
 * on a subject with a fixed payload the size of a registry get reply, doing
 * nothing else. The registry's get is measured against it.
 */
import { connect } from "@nats-io/transport-node";

const [url, subject, size] = process.argv.slice(2);
if (url === undefined || subject === undefined) {
  process.stderr.write("usage: echo.js <nats-url> <subject> <reply-bytes>\n");
  process.exit(2);
}
const nc = await connect({ servers: url, name: "bench-echo" });
const reply = new Uint8Array(Number(size ?? 400)).fill(0x61);
nc.subscribe(subject, {
  callback: (_err, msg) => {
    msg.respond(reply);
  },
});
await nc.flush();
process.stdout.write("ready\n");
process.on("SIGTERM", () => {
  void nc.drain().then(() => process.exit(0));
});
