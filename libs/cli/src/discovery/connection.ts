/** A discovery client around one command, with discovery's failures explained. */
import { DiscoveryClient } from "@stratreg/client";
import { ErrorCodes, StratregError } from "@stratreg/protocol";
import { withNats } from "../connection.js";
import type { GlobalOptions } from "../options.js";
import { explainDiscoveryError, nobodyServes } from "./errors.js";

/** Runs `work` with a discovery client of the cluster, closing the connection afterwards; failures come out explained. */
export async function withDiscovery<T>(
  globals: GlobalOptions,
  work: (discovery: DiscoveryClient) => Promise<T>,
): Promise<T> {
  const context = { cluster: globals.cluster, nats: globals.nats, timeoutMs: globals.timeout };
  return withNats(globals, async (nc) => {
    const discovery = new DiscoveryClient(nc, { cluster: globals.cluster, timeoutMs: globals.timeout });
    try {
      return await work(discovery);
    } catch (err) {
      // After a timeout, ask once more whether anybody listens at all, to say which it was.
      const timedOut = err instanceof StratregError && err.code === ErrorCodes.Timeout;
      const noResponders = timedOut && (await nobodyServes(nc, discovery.subjects));
      throw explainDiscoveryError(err, { ...context, noResponders });
    }
  });
}
