/**
 * The SDK's request path: one wildcard inbox subscription per connection, shared
 * by every client on it, and a map from reply token to the waiting call. A
 * request is a publish with a reply subject, a map entry and a timer; a reply
 * resolves it. No error object is built unless the request fails: nats.js's
 * `request()` builds one on every call, even a successful one (it cancels the
 * request with a fresh error after resolving it), which costs a trading
 * service's hot path a stack capture per get (docs/adr/018). Where a call came
 * from is still known on failure: the SDK turns the failure into its own error
 * inside the awaiting call, whose async stack names the caller.
 */
import {
  createInbox,
  Empty,
  errors,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Payload,
  PermissionViolationError,
  type RequestOptions,
  type Status,
  type Subscription,
} from "@nats-io/transport-node";

/** nats.js's default request timeout, for a library that gives none. */
const DEFAULT_TIMEOUT_MS = 1000;

/** A request on `subject` got no reply within its timeout. */
export class ReplyTimeoutError extends Error {
  override name = "ReplyTimeoutError";
  constructor(readonly subject: string) {
    super(`no reply on ${subject} in time`);
  }
}

/** Nobody is subscribed to `subject` (the server said so at once: a 503 status). */
export class NoRespondersError extends Error {
  override name = "NoRespondersError";
  constructor(readonly subject: string) {
    super(`no responders on ${subject}`);
  }
}

/** The connection closed before the reply came. */
export class RequestClosedError extends Error {
  override name = "RequestClosedError";
  constructor(readonly subject: string) {
    super(`the connection closed while waiting for a reply on ${subject}`);
  }
}

/** Sends requests and waits for replies, like `NatsConnection.request`. */
interface Requester {
  request(subject: string, payload: Uint8Array, options: { timeout: number; headers?: MsgHdrs }): Promise<Msg>;
}

interface Waiting {
  subject: string;
  resolve: (msg: Msg) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

const muxes = new WeakMap<NatsConnection, RequestMux>();

/** Requests over one connection through one inbox subscription. */
export class RequestMux implements Requester {
  private readonly prefix: string;
  private readonly waiting = new Map<string, Waiting>();
  private readonly sub: Subscription;
  private next = 0;

  /** The mux of `nc`, made on first use (one subscription per connection, whatever clients share it). */
  static of(nc: NatsConnection): RequestMux {
    let mux = muxes.get(nc);
    if (mux === undefined || mux.sub.isClosed()) {
      mux = new RequestMux(nc);
      muxes.set(nc, mux);
    }
    return mux;
  }

  private constructor(private readonly nc: NatsConnection) {
    // The connection's own inbox prefix: a user may only be allowed to subscribe under it.
    const { inboxPrefix } = (nc as { options?: { inboxPrefix?: string } }).options ?? {};
    this.prefix = `${createInbox(inboxPrefix)}.`;
    this.sub = nc.subscribe(`${this.prefix}*`, {
      callback: (err, msg) => {
        // The server refused the inbox subscription: nothing can be answered.
        if (err !== null) this.fail(() => err);
        else this.reply(msg);
      },
    });
    // The connection's statuses, as nats.js gives them: an iterator that can be stopped.
    const statuses = nc.status() as AsyncIterable<Status> & { stop?: () => void };
    // A closed subscription (the connection closed, or the server refused it) answers nothing
    // more: fail whoever waits, and stop following the connection (the next mux will).
    void this.sub.closed.then(() => {
      statuses.stop?.();
      this.fail((w) => new RequestClosedError(w.subject));
    });
    void this.watchRefusals(statuses);
  }

  /**
   * The server refuses a publish its user may not make with an asynchronous
   * error naming the subject: the requests waiting on that subject fail with it.
   */
  private async watchRefusals(statuses: AsyncIterable<Status>): Promise<void> {
    for await (const status of statuses) {
      const err = status.type === "error" ? status.error : undefined;
      if (err instanceof PermissionViolationError && err.operation === "publish") {
        this.fail((w) => (w.subject === err.subject ? err : undefined));
      }
    }
  }

  /** Fails each waiting request `why` gives an error for. */
  private fail(why: (w: Waiting) => Error | undefined): void {
    for (const [token, w] of this.waiting) {
      const err = why(w);
      if (err === undefined) continue;
      clearTimeout(w.timer);
      this.waiting.delete(token);
      w.reject(err);
    }
  }

  request(subject: string, payload: Uint8Array, options: { timeout: number; headers?: MsgHdrs }): Promise<Msg> {
    if (this.sub.isClosed()) return Promise.reject(new RequestClosedError(subject));
    const token = (this.next++).toString(36);
    return new Promise<Msg>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(token);
        reject(new ReplyTimeoutError(subject));
      }, options.timeout);
      this.waiting.set(token, { subject, resolve, reject, timer });
      try {
        this.nc.publish(subject, payload, { reply: this.prefix + token, headers: options.headers });
      } catch (err) {
        clearTimeout(timer);
        this.waiting.delete(token);
        reject(err as Error);
      }
    });
  }

  /** Requests sent and not yet answered. */
  get pending(): number {
    return this.waiting.size;
  }

  private reply(msg: Msg): void {
    const token = msg.subject.slice(this.prefix.length);
    const w = this.waiting.get(token);
    // A reply after its timeout, or a second one: nobody waits for it.
    if (w === undefined) return;
    this.waiting.delete(token);
    clearTimeout(w.timer);
    if (msg.data.length === 0 && msg.headers?.code === 503) w.reject(new NoRespondersError(w.subject));
    else w.resolve(msg);
  }
}

/**
 * `nc` as a library sees it, with `request()` through the connection's mux: a
 * JetStream or KV client makes one request per append or key write, and through
 * nats.js's own `request()` each would build an error object even when it
 * succeeds (see above). Failures come back as nats.js's own errors, so the
 * library handles them as it always did; every other property is the
 * connection's own.
 */
export function requestsThroughMux(nc: NatsConnection): NatsConnection {
  const request = async (subject: string, payload?: Payload, options?: RequestOptions): Promise<Msg> => {
    // As nats.js's request() refuses before sending: a closed or draining connection sends nothing.
    if (nc.isClosed()) throw new errors.ClosedConnectionError();
    if (nc.isDraining()) throw new errors.DrainingConnectionError();
    try {
      const data = typeof payload === "string" ? new TextEncoder().encode(payload) : (payload ?? Empty);
      return await RequestMux.of(nc).request(subject, data, {
        timeout: options?.timeout || DEFAULT_TIMEOUT_MS,
        headers: options?.headers,
      });
    } catch (err) {
      if (err instanceof NoRespondersError) {
        throw new errors.RequestError(err.message, { cause: new errors.NoRespondersError(subject) });
      }
      if (err instanceof ReplyTimeoutError) throw new errors.TimeoutError();
      if (err instanceof RequestClosedError) throw new errors.RequestError("connection closed", { cause: err });
      throw err;
    }
  };
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(nc, {
    get(target, property) {
      if (property === "request") return request;
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      let method = bound.get(property);
      if (method === undefined) {
        method = value.bind(target);
        bound.set(property, method);
      }
      return method;
    },
  });
}
