#!/usr/bin/env node
/**
 * Process entry of a registry shard:
 *   node services/registry-shard/dist/main.js [--nats URL] [--cluster NAME] [--id MEMBER] [--partitions P] [--replicas R]
 * Configured by env (NATS_URL, STRATREG_CLUSTER, STRATREG_MEMBER_ID, …; see README.md).
 * An operator's drain request stops the shard from inside: the process exits once
 * everything is handed off, with the shard's exit code.
 */
import { runService } from "@stratreg/process";
import { loadConfig } from "./config.js";
import { Shard } from "./shard.js";

void runService({
  command: "stratreg-shard",
  service: "registry-shard",
  loadConfig: () => loadConfig(),
  start: (config, logger) => Shard.start(config, logger),
});
