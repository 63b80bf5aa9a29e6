/**
 * Answering requests the way every stratreg service does: a reply only where the requester asked
 * for one, a failure to send it logged rather than thrown, and an error turned into the wire's
 * error reply with its stable code, counted (internal errors also logged).
 */
import type { Msg } from "@nats-io/transport-node";
import { ErrorCodes, encode, PROTOCOL_VERSION, toStratregError } from "@stratreg/protocol";
import type { Logger } from "pino";

/** What a service counts of its failed requests. */
export interface ReplyCounters {
  errors: number;
  overloaded: number;
  internalErrors: number;
}

/** How a service answers a request: `respond` with reply bytes, `fail` with whatever was thrown. */
export interface Replies {
  respond(msg: Msg, bytes: Uint8Array): void;
  fail(msg: Msg, op: string, err: unknown): void;
}

/** The replies of a service that logs with `logger` and counts failures in `counters`. */
export function replies(logger: Logger, counters: ReplyCounters): Replies {
  const respond = (msg: Msg, bytes: Uint8Array) => {
    if (msg.reply === undefined || msg.reply === "") return;
    try {
      msg.respond(bytes);
    } catch (err) {
      logger.warn({ err, subject: msg.subject }, "could not send reply");
    }
  };
  const fail = (msg: Msg, op: string, err: unknown) => {
    const error = toStratregError(err);
    counters.errors++;
    if (error.code === ErrorCodes.Overloaded) counters.overloaded++;
    if (error.code === ErrorCodes.Internal) {
      counters.internalErrors++;
      logger.error({ err, op, subject: msg.subject }, "request failed");
    }
    respond(msg, encode({ v: PROTOCOL_VERSION, ok: false, error: error.toWire() }));
  };
  return { respond, fail };
}
