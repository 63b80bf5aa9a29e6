import type { NatsServerOptions } from "./server.js";

const SYNC_INTERVAL = /^(always|\d+(ms|s|m|h))$/;

/**
 * Config lines for the settings of {@link NatsServerOptions} that have no command-line flag
 * (empty when none is set). Throws a RangeError for a setting the server would misread.
 */
export function generatedConfig(options: NatsServerOptions): string[] {
  const lines: string[] = [];
  if (options.maxPayload !== undefined) lines.push(`max_payload: ${options.maxPayload}`);
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
