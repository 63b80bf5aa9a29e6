/**
 * Pre-encoded report requests: one simulated day of the synthetic market for
 * the strategies of registered batches, 1000 reports of one partition per
 * request, encoded before the clock starts (as the raw baseline's bytes are).
 */
import { nuid } from "@nats-io/transport-node";
import type { SyntheticMarket } from "@stratreg/launcher";
import { encode, type PerformanceReport, PROTOCOL_VERSION } from "@stratreg/protocol";
import type { EncodedBatch } from "./batches.js";

/** One `report` request of one partition. */
export interface EncodedReports {
  partition: number;
  reports: number;
  returns: number;
  payload: Uint8Array;
}

/**
 * The next day of `market` (`periods` returns per strategy), cut along `batches`:
 * the market must simulate the batches' strategies in their order, so that the
 * i-th request carries the reports of the i-th batch's strategies.
 */
export function encodedReportDay(market: SyntheticMarket, batches: EncodedBatch[], periods: number): EncodedReports[] {
  const day = market.nextDay(periods);
  const out: EncodedReports[] = [];
  let from = 0;
  for (const batch of batches) {
    const reports: PerformanceReport[] = day.slice(from, from + batch.count);
    from += batch.count;
    const envelope = { v: PROTOCOL_VERSION, cid: nuid.next(), issued: Date.now(), body: { reports } };
    out.push({
      partition: batch.partition,
      reports: reports.length,
      returns: reports.reduce((n, r) => n + (r.returns?.length ?? 0), 0),
      payload: Buffer.from(encode(envelope)),
    });
  }
  if (from !== day.length) throw new Error(`the market simulates ${day.length} strategies, the batches hold ${from}`);
  return out;
}
