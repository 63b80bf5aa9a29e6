/**
 * The records of the risk guard's log. Every change to the guard's state is one
 * record; the leader decides, applies and appends, a standby or a restarted
 * guard applies the same records in the same order and so holds the same
 * state. Records are facts: replay never re-decides, so a changed limit or a
 * changed clock cannot change history.
 *
 * One log entry is `{ e: epoch, r: [record, …] }` (msgpack), many records per
 * entry (group commit). Unknown record kinds are skipped with a warning, so an
 * older guard can follow a newer one's log during a rolling upgrade.
 */
import {
  type CheckReply,
  type DenyReason,
  decode,
  encode,
  type Headroom,
  type RiskLimits,
  type Side,
  type TradingEvent,
} from "@stratreg/protocol";

/** Kinds of record. */
export const RecordKinds = {
  /** A new leader's first entry: fences every older epoch. */
  Epoch: "epoch",
  /** A pre-trade check's decision. */
  Check: "check",
  Fill: "fill",
  Cancel: "cancel",
  /** An allowed order's reservation ran out. */
  Expire: "expire",
  Position: "position",
  Limits: "limits",
  /** An event of the trading-state machine. */
  Trading: "trading",
  /** The correlation clusters the exposure limits use from now on. */
  Clusters: "clusters",
} as const;
export type RecordKind = (typeof RecordKinds)[keyof typeof RecordKinds];

export interface EpochRecord {
  t: typeof RecordKinds.Epoch;
  epoch: number;
  member: string;
  at: number;
}

/** A decision, with everything replay needs (the family as the registry said at the time). */
export interface CheckRecord {
  t: typeof RecordKinds.Check;
  orderId: string;
  strategy: string;
  family: string;
  venue: string;
  symbol: string;
  side: Side;
  quantity: number;
  price: number;
  reduceOnly: boolean;
  /** The order reduces the strategy's position (it reserves reducing capacity, not exposure). */
  reduces: boolean;
  allowed: boolean;
  reason: DenyReason | null;
  limit: Headroom | null;
  headroom: Headroom[];
  state: CheckReply["state"];
  at: number;
  expiresAt: number | null;
}

export interface FillRecord {
  t: typeof RecordKinds.Fill;
  orderId: string;
  fillId: string;
  quantity: number;
  price: number;
  at: number;
}

export interface CancelRecord {
  t: typeof RecordKinds.Cancel | typeof RecordKinds.Expire;
  orderId: string;
  at: number;
}

export interface PositionRecord {
  t: typeof RecordKinds.Position;
  strategy: string;
  family: string;
  venue: string;
  symbol: string;
  quantity: number;
  price: number;
  at: number;
}

export interface LimitsRecord {
  t: typeof RecordKinds.Limits;
  version: number;
  limits: RiskLimits;
  by: string;
  note: string | null;
  at: number;
}

export interface TradingRecord {
  t: typeof RecordKinds.Trading;
  event: TradingEvent;
}

export interface ClustersRecord {
  t: typeof RecordKinds.Clusters;
  /** Strategy → cluster key (its first member); strategies absent are alone. */
  clusters: Record<string, string>;
  rho: number;
  at: number;
}

export type RiskRecord =
  | EpochRecord
  | CheckRecord
  | FillRecord
  | CancelRecord
  | PositionRecord
  | LimitsRecord
  | TradingRecord
  | ClustersRecord;

/** One log entry. */
export interface RiskEntry {
  /** The epoch of the leader that wrote it. */
  e: number;
  r: RiskRecord[];
}

const KNOWN = new Set<string>(Object.values(RecordKinds));

/** Encodes a log entry (standard msgpack). */
export function encodeEntry(entry: RiskEntry): Uint8Array {
  return encode(entry);
}

/**
 * Decodes a log entry; records of kinds this build does not know are left out
 * and counted in `skipped`. Throws on bytes that are not an entry.
 */
export function decodeEntry(bytes: Uint8Array): { entry: RiskEntry; skipped: number } {
  const value = decode(bytes) as Partial<RiskEntry> | null;
  if (value === null || typeof value !== "object" || typeof value.e !== "number" || !Array.isArray(value.r)) {
    throw new TypeError("not a risk log entry");
  }
  const records = value.r.filter((r) => r !== null && typeof r === "object" && KNOWN.has((r as RiskRecord).t));
  return { entry: { e: value.e, r: records }, skipped: value.r.length - records.length };
}
