/**
 * Options every command shares. Flags win over the environment (the same
 * variables the services read), which wins over the defaults.
 */
import { DEFAULT_CLUSTER } from "@stratreg/protocol";
import { type Command, InvalidArgumentError, Option } from "commander";

/** The global options after defaults are applied. */
export interface GlobalOptions {
  /** NATS server URL(s), comma-separated. */
  nats: string;
  user: string | undefined;
  password: string | undefined;
  /** Cluster name: the subject prefix of the registry. */
  cluster: string;
  /** Deadline of each request, ms. */
  timeout: number;
  /** Print machine-readable JSON instead of text. */
  json: boolean;
}

const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";

/** Commander argument parser for an integer ≥ `min`. */
export function integerAtLeast(min: number): (raw: string) => number {
  return (raw) => {
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < min) {
      throw new InvalidArgumentError(`expected an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
    }
    return value;
  };
}

/** The global options, to add to the root command. */
export function globalOptions(): Option[] {
  return [
    new Option("--nats <url>", "NATS server URL(s), comma-separated").env("NATS_URL").default(DEFAULT_NATS_URL),
    new Option("--user <user>", "NATS user").env("NATS_USER"),
    // Read from the environment but never shown by --help.
    new Option("--password <password>", "NATS password").env("NATS_PASSWORD"),
    new Option("--cluster <name>", "registry cluster name").env("STRATREG_CLUSTER").default(DEFAULT_CLUSTER),
    new Option("--timeout <ms>", "deadline of each request, ms").argParser(integerAtLeast(1)).default(5000),
    new Option("--json", "machine-readable JSON output").default(false),
  ];
}

/** The global options as seen from a subcommand; empty variables count as unset, as in the services. */
export function globalsOf(command: Command): GlobalOptions {
  const options = command.optsWithGlobals<GlobalOptions>();
  return {
    ...options,
    nats: options.nats || DEFAULT_NATS_URL,
    user: options.user || undefined,
    password: options.password || undefined,
    cluster: options.cluster || DEFAULT_CLUSTER,
  };
}
