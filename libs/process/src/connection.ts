/**
 * What every service process does alike around its NATS connection and its
 * lifecycle actor: connect as the configured user with the reconnect policy
 * services share, and log each state its actor enters (and an actor's failure).
 */
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import type { MemberSettings } from "./settings.js";

/** Connects a service member to its servers: named `stratreg-<service>/<member>`, reconnecting forever. */
export function connectService(settings: MemberSettings, service: string): Promise<NatsConnection> {
  return connect({
    servers: settings.natsUrl.split(","),
    name: `stratreg-${service}/${settings.member}`,
    user: settings.natsUser,
    pass: settings.natsPassword,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    // Async stack traces build two Error objects per request (JetStream appends included); the
    // service's own errors say what failed.
    noAsyncTraces: true,
  });
}

/** The part of an xstate actor a service watches. */
export interface WatchedActor<S> {
  getSnapshot(): S;
  subscribe(observer: { next: (snapshot: S) => void; error: (err: unknown) => void }): unknown;
}

/**
 * Logs `<service> <state>` each time `actor` enters another state (with the
 * fields `describe` adds), and any error the actor fails with.
 */
export function logStates<S extends { value: unknown }>(
  actor: WatchedActor<S>,
  logger: Logger,
  service: string,
  describe: (snapshot: S) => Record<string, unknown> = () => ({}),
): void {
  let previous: unknown;
  actor.subscribe({
    next: (snapshot) => {
      const state = snapshot.value;
      if (state === previous) return;
      previous = state;
      logger.info({ state, ...describe(snapshot) }, `${service} ${String(state)}`);
    },
    error: (err) => logger.error({ err }, `${service} lifecycle actor failed`),
  });
}
