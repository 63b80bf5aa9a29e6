import type { NatsServerOptions } from "./server.js";

const SYNC_INTERVAL = /^(always|\d+(ms|s|m|h))$/;

/**
 * Config lines for the settings of {@link NatsServerOptions} that have no command-line flag
 * (empty when none is set). Throws a RangeError for a setting the server would misread.
 */
export function generatedConfig(options: NatsServerOptions): string[] {
  const lines: string[] = [];
  if (options.maxPayload !== undefined) lines.push(`max_payload: ${options.maxPayload}`);
  if (options.websocketPort !== undefined && options.websocketPort !== 0) {
    if (!Number.isInteger(options.websocketPort) || options.websocketPort < 1 || options.websocketPort > 65535) {
      throw new RangeError(`websocketPort must be a port number, got ${options.websocketPort}`);
    }
    // TLS belongs in front of a deployed server; this listener serves the launcher and tests on loopback.
    lines.push(
      `websocket {\n  host: "${options.host ?? "127.0.0.1"}"\n  port: ${options.websocketPort}\n  no_tls: true\n}`,
    );
  }
  if (options.syncInterval !== undefined) {
    if (!SYNC_INTERVAL.test(options.syncInterval)) {
      throw new RangeError(`syncInterval must be "always" or a duration like "10s", got ${options.syncInterval}`);
    }
    if (options.configFile !== undefined || options.jetstream === false) {
      // A second jetstream {} block replaces the config file's whole block, and any such
      // block turns JetStream on: neither is what the caller asked for.
      throw new RangeError(
        "syncInterval needs jetstream on and no configFile (set sync_interval in that file instead)",
      );
    }
    lines.push(`jetstream {\n  sync_interval: ${options.syncInterval}\n}`);
  }
  return lines;
}
