/**
 * How every service puts its endpoints on the NATS services framework: each
 * with its subject (and queue group), each request handed to one handler, and
 * a registration that stops with an error logged rather than lost.
 */
import type { Service } from "@nats-io/services";
import type { Msg } from "@nats-io/transport-node";
import type { Logger } from "pino";

/** One endpoint: its name in the framework, its subject, and what handles a request. */
export interface Endpoint {
  name: string;
  subject: string;
  /** The queue group; "" for none (every process answers); the service's own when absent. */
  queue?: string;
  handle(msg: Msg): void;
}

/** Logs the framework registration of `service` stopping with an error. */
export function watchService(service: Service, logger: Logger): Service {
  service.stopped.then(
    (err) => {
      if (err) logger.error({ err }, "service framework registration stopped");
    },
    () => undefined,
  );
  return service;
}

/** Adds `endpoints` to `service` and watches its registration. */
export function serveEndpoints(service: Service, endpoints: readonly Endpoint[], logger: Logger): Service {
  for (const endpoint of endpoints) {
    service.addEndpoint(endpoint.name, {
      subject: endpoint.subject,
      ...(endpoint.queue === undefined ? {} : { queue: endpoint.queue }),
      handler: (err, msg) => {
        if (err === null) endpoint.handle(msg);
      },
    });
  }
  return watchService(service, logger);
}
