/** What every view gets from the logged-in page: the connection, the cluster's subjects, who is logged in. */
import { type ClusterSubjects, partitionOf } from "@stratreg/protocol/web";
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { ConsoleConnection } from "./nats.js";

export interface ConsoleContext {
  conn: ConsoleConnection;
  subjects: ClusterSubjects;
  /** The cluster's partition count (from `cluster.info`), to route a strategy id to its partition. */
  partitions: number;
  /**
   * Whether the page offers controls. Only a courtesy: the `viewer` user sees them disabled,
   * and nats-server refuses a control message from it whatever the page does.
   */
  canControl: boolean;
  /** Opens a strategy's page. */
  openStrategy(id: string): void;
}

export const Console = createContext<ConsoleContext | undefined>(undefined);

/** The console context; views render only inside a logged-in page. */
export function useConsole(): ConsoleContext {
  const ctx = useContext(Console);
  if (ctx === undefined) throw new Error("useConsole outside a logged-in page");
  return ctx;
}

/** The partition a strategy id routes to. */
export function partitionFor(ctx: ConsoleContext, id: string): number {
  return partitionOf(id, ctx.partitions);
}
