#!/usr/bin/env node
/**
 * `npm run nats-server`: makes sure this machine has the nats-server binaries stratreg runs, and
 * says which: the one a single server runs (>= 2.9.10: the machine's own) and the one 3-node
 * clusters run (>= 2.10.27, which replicated streams need). Either is fetched from Debian into
 * `.nats-server/` when the machine has none new enough (see libs/natsd). `.ci/run` calls it, so
 * a CI log shows which servers the tests ran against. Needs a build (`npm run build`) first.
 *
 *   node scripts/nats-server.mjs
 *
 * Exits 1 when a server could be neither found nor fetched, with the reason and what to do.
 */
import {
  ensureNatsServer,
  MIN_NATS_SERVER_VERSION,
  NatsServerNotFoundError,
  REPLICATED_NATS_SERVER_VERSION,
} from "@stratreg/natsd";

const wanted = [
  { what: "single server", minVersion: MIN_NATS_SERVER_VERSION },
  {
    what: "3-node clusters",
    minVersion: REPLICATED_NATS_SERVER_VERSION,
    purpose: "needed for replicated streams",
  },
];

try {
  for (const { what, ...need } of wanted) {
    const found = await ensureNatsServer({ ...need, log: (line) => console.log(line) });
    const how = found.source === "machine" ? "this machine's" : `fetched from Debian: ${found.reason}`;
    console.log(`${what} (>= ${need.minVersion}): nats-server ${found.version} at ${found.bin} (${how})`);
  }
} catch (error) {
  if (!(error instanceof NatsServerNotFoundError)) throw error;
  console.error(error.message);
  process.exit(1);
}
