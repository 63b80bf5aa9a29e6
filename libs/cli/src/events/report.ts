/** An ownership change as one line of text. */
import type { OwnershipEvent } from "@stratreg/client";

/** `2025-01-02T03:04:05.678Z shard-1 acquired partition 7 epoch 3`: time (the shard's clock), who, what, which. */
export function eventLine(event: OwnershipEvent): string {
  const at = Number.isFinite(event.at) ? new Date(event.at).toISOString() : String(event.at);
  return `${at} ${event.member} ${event.change} partition ${event.partition} epoch ${event.epoch}`;
}
