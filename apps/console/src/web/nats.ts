/**
 * The console's NATS connection: the client's WebSocket transport, straight to
 * nats-server, logged in as the person's own NATS user. Requests use the stratreg
 * envelope and codec from @stratreg/protocol; a failure becomes a {@link ConsoleError}
 * with a stable code, so the page can say "refused by NATS" rather than a stack.
 */
import {
  type Msg,
  type NatsConnection,
  PermissionViolationError,
  RequestError,
  TimeoutError,
  wsconnect,
} from "@nats-io/nats-core";
import {
  DEADLINE_MS_MAX,
  decode,
  encode,
  errorFromWire,
  PROTOCOL_VERSION,
  type Reply,
  StratregError,
} from "@stratreg/protocol/web";

/** Codes of failures the console itself names (the rest are the protocol's `ErrorCodes`). */
export const ConsoleErrorCodes = {
  /** nats-server refused the publish or subscription: the user's permissions do not allow it. */
  PermissionDenied: "PERMISSION_DENIED",
  /** Nobody answers the subject (the service is not running). */
  NoResponders: "NO_RESPONDERS",
  Timeout: "TIMEOUT",
  /** Login refused, or the server is not reachable. */
  ConnectFailed: "CONNECT_FAILED",
} as const;

/** A failure shown on the page: its stable code and a sentence. */
export class ConsoleError extends Error {
  override name = "ConsoleError";
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What the login form asks for. No credential is part of the page: the person types them. */
export interface Login {
  url: string;
  user?: string;
  pass?: string;
}

function isPermissionViolation(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) if (e instanceof PermissionViolationError) return true;
  return false;
}

/** Turns whatever a request threw into a ConsoleError with a stable code. */
export function toConsoleError(err: unknown, subject: string): ConsoleError {
  if (err instanceof ConsoleError) return err;
  if (err instanceof StratregError) return new ConsoleError(err.code, err.message, { cause: err });
  if (isPermissionViolation(err)) {
    return new ConsoleError(
      ConsoleErrorCodes.PermissionDenied,
      `refused by NATS: this user may not publish ${subject}`,
      {
        cause: err,
      },
    );
  }
  if (err instanceof RequestError && err.isNoResponders()) {
    return new ConsoleError(ConsoleErrorCodes.NoResponders, `nothing answers ${subject}`, { cause: err });
  }
  if (err instanceof TimeoutError || (err instanceof RequestError && err.cause instanceof TimeoutError)) {
    return new ConsoleError(ConsoleErrorCodes.Timeout, `no answer on ${subject} in time`, { cause: err });
  }
  return new ConsoleError("UNKNOWN", `${subject}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

/** A logged-in connection and the requests the views make with it. */
export class ConsoleConnection {
  private constructor(
    readonly nc: NatsConnection,
    readonly user: string,
  ) {}

  /** Connects over WebSocket; a refused login or an unreachable server is a CONNECT_FAILED ConsoleError. */
  static async open(login: Login): Promise<ConsoleConnection> {
    try {
      const nc = await wsconnect({
        servers: login.url,
        name: `stratreg-console${login.user ? `-${login.user}` : ""}`,
        ...(login.user ? { user: login.user, pass: login.pass ?? "" } : {}),
        // The console follows the cluster for as long as the tab is open.
        maxReconnectAttempts: -1,
        reconnectTimeWait: 1000,
      });
      return new ConsoleConnection(nc, login.user ?? "");
    } catch (err) {
      throw new ConsoleError(
        ConsoleErrorCodes.ConnectFailed,
        `cannot log in to ${login.url}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }

  /** Sends `body` in the envelope and returns the reply's body, or throws a ConsoleError. */
  async request<B>(subject: string, body: unknown, timeoutMs = 3000, cid?: string): Promise<B> {
    const envelope: Record<string, unknown> = {
      v: PROTOCOL_VERSION,
      deadlineMs: Math.min(timeoutMs, DEADLINE_MS_MAX),
      body,
    };
    if (cid !== undefined) {
      envelope.cid = cid;
      envelope.issued = Date.now();
    }
    let msg: Msg;
    try {
      msg = await this.nc.request(subject, encode(envelope), { timeout: timeoutMs });
    } catch (err) {
      throw toConsoleError(err, subject);
    }
    const reply = decode(msg.data) as Reply<B>;
    if (!reply.ok) throw toConsoleError(errorFromWire(reply.error), subject);
    return reply.body;
  }

  /** Every answer to a scatter request (the services framework's `$SRV.*`) within `maxWaitMs`, as JSON. */
  async gather<T>(subject: string, maxWaitMs = 400): Promise<T[]> {
    const out: T[] = [];
    try {
      const replies = await this.nc.requestMany(subject, undefined, { strategy: "timer", maxWait: maxWaitMs });
      for await (const msg of replies) {
        try {
          out.push(msg.json<T>());
        } catch {
          // A reply that is not JSON is not a services-framework answer: skip it.
        }
      }
    } catch (err) {
      const e = toConsoleError(err, subject);
      if (e.code !== ConsoleErrorCodes.NoResponders) throw e;
    }
    return out;
  }

  /** Calls `onMessage` with each decoded msgpack message on `subject` until the returned function is called. */
  follow<T>(
    subject: string,
    onMessage: (value: T, msg: Msg) => void,
    onError?: (err: ConsoleError) => void,
  ): () => void {
    const sub = this.nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) {
          onError?.(toConsoleError(err, subject));
          return;
        }
        try {
          onMessage(decode(msg.data) as T, msg);
        } catch {
          // A message we cannot decode is skipped, as readers skip unknown kinds.
        }
      },
    });
    return () => sub.unsubscribe();
  }

  async close(): Promise<void> {
    await this.nc.close();
  }
}
