/**
 * Market data: bars of each series (symbol on a venue), kept in the JetStream
 * stream `<cluster>-bars` with one subject per series, and held in memory by
 * every discovery process, which follows the stream from its start.
 *
 * Imports go through discovery (`<cluster>.discovery.import`), which checks
 * every bar at the edge and appends only the bars whose time the series does
 * not hold yet, one stream message per import: a re-import is harmless, a
 * malformed bar is an error reply and nothing is written. Imports of one
 * series are serialised so that two at once cannot both append one time.
 *
 * A stream message is `{ symbol, venue, bars: [[t, open, high, low, close, volume, spread | null], …] }`
 * in standard msgpack. A message this build cannot read is skipped and counted.
 */
import { type ConsumerMessages, type JetStreamClient, type JetStreamManager, StorageType } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import { ensureStream } from "@stratreg/fencing";
import { BarSeries } from "@stratreg/market";
import {
  type ClusterSubjects,
  decode,
  ErrorCodes,
  encode,
  hashString,
  type ImportBarsReply,
  type ImportBarsRequest,
  type SeriesInfo,
  seriesKeyOf,
  ValidationError,
} from "@stratreg/protocol";
import type { Logger } from "pino";

/** A bar as the stream stores it: t, open, high, low, close, volume, spread (null when unknown). */
type Row = [number, number, number, number, number, number, number | null];

interface HeldSeries {
  symbol: string;
  venue: string;
  /** Rows by time: one per time, the first appended wins. */
  rows: Map<number, Row>;
  /** Sorted columns, rebuilt after a change when asked for. */
  cached: BarSeries | undefined;
}

/** How long the stream recognises a resent import by its message id (bars are kept for good). */
const DUPLICATE_WINDOW_MS = 120_000;

/** Creates the bar stream if it is not there. */
export async function ensureBarStream(jsm: JetStreamManager, subjects: ClusterSubjects, replicas: number) {
  await ensureStream(jsm, {
    name: subjects.barsStream,
    subjects: [subjects.barsAll],
    storage: StorageType.File,
    num_replicas: replicas,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
  });
}

/** Why a bar is not one (beyond what the schema checks): the field and the reason. */
function barProblem(bar: ImportBarsRequest["bars"][number]): { field: string; message: string } | undefined {
  if (bar.high < Math.max(bar.open, bar.close, bar.low)) {
    return { field: "high", message: `high ${bar.high} is below the open, close or low` };
  }
  if (bar.low > Math.min(bar.open, bar.close))
    return { field: "low", message: `low ${bar.low} is above the open or close` };
  return undefined;
}

/** Two 32-bit hashes of `bytes`, in hex. */
function hashBytes(bytes: Uint8Array): string {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
  return `${hashString(text).toString(16)}${hashString(`${text}|`).toString(16)}`;
}

function isRow(value: unknown): value is Row {
  if (!Array.isArray(value) || value.length !== 7) return false;
  for (let i = 0; i < 6; i++) if (typeof value[i] !== "number" || !Number.isFinite(value[i])) return false;
  return value[6] === null || typeof value[6] === "number";
}

/** The market data a discovery process holds and appends to. */
export class BarStore {
  private readonly series = new Map<string, HeldSeries>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private messages: ConsumerMessages | undefined;
  private following: Promise<void> | undefined;
  /** Stream messages this build could not read. */
  skipped = 0;
  /** Called with the number of new bars whenever some arrive (imported here or by another process). */
  onBars: ((count: number) => void) | undefined;

  constructor(
    private readonly js: JetStreamClient,
    private readonly subjects: ClusterSubjects,
    private readonly logger: Logger,
  ) {}

  /** Reads the stream up to its end now, then keeps following it. */
  async open(jsm: JetStreamManager): Promise<void> {
    const info = await jsm.streams.info(this.subjects.barsStream);
    const last = info.state.last_seq;
    // The stream holds bars only, so no subject filter (nats-server 2.9 takes none on these consumers).
    const consumer = await this.js.consumers.get(this.subjects.barsStream);
    const messages = await consumer.consume();
    this.messages = messages;
    let caughtUp: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => {
      caughtUp = resolve;
    });
    if (info.state.messages === 0) caughtUp();
    this.following = (async () => {
      for await (const msg of messages) {
        const added = this.applyMessage(msg.data, msg.seq);
        if (added > 0 && msg.seq > last) this.onBars?.(added);
        // Caught up with the stream as it was (the newest bars may have been purged since `last`).
        if (msg.seq >= last || msg.info.pending === 0) caughtUp();
      }
    })().catch((err: unknown) => this.logger.error({ err }, "bar stream follower failed"));
    await ready;
  }

  /** Stops following the stream. */
  async close(): Promise<void> {
    await this.messages?.close();
    await this.following;
  }

  /** Appends the bars of `request` the series does not hold yet; ValidationError for an inconsistent bar. */
  import(request: ImportBarsRequest): Promise<ImportBarsReply> {
    request.bars.forEach((bar, i) => {
      const problem = barProblem(bar);
      if (problem !== undefined) {
        throw new ValidationError(ErrorCodes.InvalidField, `body.bars[${i}].${problem.field}: ${problem.message}`, {
          field: `body.bars[${i}].${problem.field}`,
        });
      }
    });
    const key = seriesKeyOf(request.symbol, request.venue);
    const previous = this.queues.get(key) ?? Promise.resolve();
    const next = previous.then(
      () => this.append(request),
      () => this.append(request),
    );
    this.queues.set(key, next);
    void next.finally(() => {
      if (this.queues.get(key) === next) this.queues.delete(key);
    });
    return next;
  }

  private async append(request: ImportBarsRequest): Promise<ImportBarsReply> {
    const key = seriesKeyOf(request.symbol, request.venue);
    const held = this.series.get(key);
    const fresh = new Map<number, Row>();
    for (const bar of request.bars) {
      if (held?.rows.has(bar.t) === true || fresh.has(bar.t)) continue;
      fresh.set(bar.t, [bar.t, bar.open, bar.high, bar.low, bar.close, bar.volume, bar.spread ?? null]);
    }
    const rows = [...fresh.values()];
    if (rows.length > 0) {
      const first = rows[0] as Row;
      const data = encode({ symbol: request.symbol, venue: request.venue, bars: rows });
      // The message id names the content: a resend is the same message, another import is not.
      const ack = await this.js.publish(this.subjects.bars(request.venue, request.symbol), data, {
        msgID: `${key}:${first[0]}:${rows.length}:${hashBytes(data)}`,
      });
      if (ack.duplicate) {
        return {
          symbol: request.symbol,
          venue: request.venue,
          appended: 0,
          duplicates: request.bars.length,
          bars: held?.rows.size ?? 0,
        };
      }
      // Counted here: when the stream delivers this message back, its bars are held already.
      const added = this.add(request.symbol, request.venue, rows);
      if (added > 0) this.onBars?.(added);
    }
    return {
      symbol: request.symbol,
      venue: request.venue,
      appended: rows.length,
      duplicates: request.bars.length - rows.length,
      bars: this.series.get(key)?.rows.size ?? 0,
    };
  }

  /** Applies one stream message; returns how many bars were new. */
  private applyMessage(data: Uint8Array, seq: number): number {
    let message: unknown;
    try {
      message = decode(data);
    } catch {
      message = undefined;
    }
    const m = message as { symbol?: unknown; venue?: unknown; bars?: unknown } | undefined;
    if (
      typeof m !== "object" ||
      m === null ||
      typeof m.symbol !== "string" ||
      typeof m.venue !== "string" ||
      !Array.isArray(m.bars) ||
      !m.bars.every(isRow)
    ) {
      this.skipped++;
      this.logger.warn({ seq }, "skipped a bar-stream message this build cannot read");
      return 0;
    }
    return this.add(m.symbol, m.venue, m.bars as Row[]);
  }

  private add(symbol: string, venue: string, rows: readonly Row[]): number {
    const key = seriesKeyOf(symbol, venue);
    let held = this.series.get(key);
    if (held === undefined) {
      held = { symbol, venue, rows: new Map(), cached: undefined };
      this.series.set(key, held);
    }
    let added = 0;
    for (const row of rows) {
      if (held.rows.has(row[0])) continue;
      held.rows.set(row[0], row);
      added++;
    }
    if (added > 0) held.cached = undefined;
    return added;
  }

  /** The series held, by key. */
  list(): SeriesInfo[] {
    return [...this.series.values()]
      .map((held) => {
        const s = this.columns(held);
        return {
          symbol: held.symbol,
          venue: held.venue,
          bars: s.t.length,
          from: s.t[0] ?? 0,
          to: s.t[s.t.length - 1] ?? 0,
        };
      })
      .sort((a, b) => seriesKeyOf(a.symbol, a.venue).localeCompare(seriesKeyOf(b.symbol, b.venue)));
  }

  /** The series of these symbols (every venue each trades on), or of every symbol; sorted by key. */
  select(symbols?: readonly string[]): BarSeries[] {
    const wanted = symbols === undefined ? undefined : new Set(symbols);
    return [...this.series.values()]
      .filter((held) => wanted === undefined || wanted.has(held.symbol))
      .map((held) => this.columns(held))
      .sort((a, b) => seriesKeyOf(a.symbol, a.venue).localeCompare(seriesKeyOf(b.symbol, b.venue)));
  }

  private columns(held: HeldSeries): BarSeries {
    if (held.cached !== undefined) return held.cached;
    const rows = [...held.rows.values()].sort((a, b) => a[0] - b[0]);
    const n = rows.length;
    const column = (i: number) => Float64Array.from(rows, (row) => (row[i] as number | null) ?? Number.NaN);
    held.cached = new BarSeries(held.symbol, held.venue, {
      t: column(0),
      open: column(1),
      high: column(2),
      low: column(3),
      close: column(4),
      volume: column(5),
      spread: n === 0 ? new Float64Array(0) : column(6),
    });
    return held.cached;
  }
}
