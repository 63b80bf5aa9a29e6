/** Creating a log's stream once, whichever of several processes starting together gets there first. */
import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from "@nats-io/jetstream";
import { ErrorCodes, StratregError, UnavailableError } from "@stratreg/protocol";

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

/** An append refused because the log's last sequence was not the one expected: another writer leads. */
export class FencedAppendError extends StratregError {
  override name = "FencedAppendError";
  constructor(log: string, expected: number, cause: unknown) {
    super(ErrorCodes.NotOwner, `the ${log} was written by another leader (expected last sequence ${expected})`, {
      cause,
      retryable: true,
    });
  }
}

/**
 * Appends `bytes` to `subject` provided the stream's last sequence is still `expectedLastSeq`
 * (the half of the fence a singleton writer holds in the log itself); returns the new sequence.
 * A refusal for that reason is a {@link FencedAppendError}; any other failure is UNAVAILABLE.
 */
export async function appendFenced(
  js: JetStreamClient,
  log: string,
  subject: string,
  bytes: Uint8Array,
  expectedLastSeq: number,
  timeoutMs: number,
): Promise<number> {
  try {
    const ack = await js.publish(subject, bytes, { expect: { lastSequence: expectedLastSeq }, timeout: timeoutMs });
    return ack.seq;
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamWrongLastSequence) {
      throw new FencedAppendError(log, expectedLastSeq, err);
    }
    throw new UnavailableError(ErrorCodes.Unavailable, `${log} append failed: ${String(err)}`, { cause: err });
  }
}
