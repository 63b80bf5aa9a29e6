/** Creating a log's stream once, whichever of several processes starting together gets there first. */
import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from "@nats-io/jetstream";

/**
 * The stream `config.name`, created with `config` if it does not exist yet. Another process
 * creating it at the same moment is fine: whoever lost the race reads the winner's. An existing
 * stream is returned as it is (its config is the caller's to check).
 */
export async function ensureStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string },
): Promise<StreamInfo> {
  try {
    return await jsm.streams.info(config.name);
  } catch (err) {
    if (!(err instanceof JetStreamApiError) || err.code !== JetStreamApiCodes.StreamNotFound) throw err;
  }
  try {
    return await jsm.streams.add(config);
  } catch (err) {
    return jsm.streams.info(config.name).catch(() => {
      throw err;
    });
  }
}
