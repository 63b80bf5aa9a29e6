/**
 * Sends the strategies of a JSON-lines import to the registry and keeps score.
 *
 * Each chunk is split into one batch per partition (at most `batchSize`
 * strategies) and each batch goes through its own `registerMany` call,
 * `concurrency` at a time, so Ctrl-C can stop between batches. A batch is
 * all-or-nothing when the registry rejects it as invalid (it validates the
 * whole request before writing, and names the bad strategy), so the bad line is
 * set aside and the rest sent again, and the count of registered strategies
 * stays exact.
 */
import {
  ErrorCodes,
  type RegisterManyResult,
  type StratregClient,
  StratregError,
  ValidationError,
} from "@stratreg/client";
import type { Encoding } from "@stratreg/protocol";
import type { LineProblem, StrategyLine } from "./jsonl.js";

/** How an import sends its batches. */
export interface ImportOptions {
  /** Most strategies per request (and per log entry); the registry allows 1000. */
  batchSize: number;
  /** Batches in flight at once. */
  concurrency: number;
  encoding: Encoding;
  /** Deadline of each batch, ms. */
  timeoutMs: number;
  /** Most problems kept for the summary (counts are always complete). */
  maxProblems: number;
}

/** The running score of an import. */
export interface ImportCounts {
  registered: number;
  /** Rejected with ALREADY_EXISTS: registered before (an earlier run, or an earlier line with the same id). */
  alreadyRegistered: number;
  /** Lines that are not strategies: bad JSON, or rejected by the registry as invalid. */
  invalid: number;
  /** Strategies that failed otherwise (timeouts, unavailable partitions, other rejections). */
  failed: number;
  /** Strategies read but not sent because the import was interrupted. */
  notSent: number;
}

/** The field's path inside the strategy: `body.strategies[3].colour` → `colour` (the batch index means nothing to a user). */
function withinStrategy(field: string | undefined): string | undefined {
  return field?.replace(/^body\.strateg(y|ies\[\d+\])\.?/, "") || undefined;
}

/**
 * Registers chunks of an import batch by batch and counts the outcome per line.
 * `signal` stops it between batches (Ctrl-C); `onSettled` hears of every batch settled.
 */
export class Importer {
  readonly counts: ImportCounts = { registered: 0, alreadyRegistered: 0, invalid: 0, failed: 0, notSent: 0 };
  readonly problems: LineProblem[] = [];
  /** Problems counted but not kept, past `maxProblems`. */
  problemsOmitted = 0;

  constructor(
    private readonly client: StratregClient,
    private readonly options: ImportOptions,
    private readonly signal: AbortSignal,
    /** Called after each batch, with the lines it settled. */
    private readonly onSettled: (lines: number) => void,
  ) {}

  /** Records lines the reader already found invalid. */
  addInvalid(problems: LineProblem[]): void {
    this.counts.invalid += problems.length;
    for (const problem of problems) this.keep(problem);
  }

  /** Registers a chunk's strategies; resolves when every batch has settled (or the import was interrupted). */
  async send(lines: StrategyLine[]): Promise<void> {
    const batches = this.batchesOf(lines);
    let next = 0;
    const worker = async () => {
      while (next < batches.length && !this.signal.aborted) {
        await this.sendBatch(batches[next++] as StrategyLine[]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency, batches.length) }, worker));
    for (; next < batches.length; next++) this.counts.notSent += (batches[next] as StrategyLine[]).length;
  }

  private batchesOf(lines: StrategyLine[]): StrategyLine[][] {
    const byPartition = new Map<number, StrategyLine[]>();
    for (const line of lines) {
      const p = this.client.partitionOf(line.strategy.id);
      const group = byPartition.get(p);
      if (group === undefined) byPartition.set(p, [line]);
      else group.push(line);
    }
    const batches: StrategyLine[][] = [];
    for (const group of byPartition.values()) {
      for (let i = 0; i < group.length; i += this.options.batchSize) {
        batches.push(group.slice(i, i + this.options.batchSize));
      }
    }
    return batches;
  }

  /** Sends one batch and records the outcome; lines of a batch refused for another line's sake are sent again. */
  private async sendBatch(batch: StrategyLine[]): Promise<void> {
    const again = await this.attempt(batch);
    // Reported in the same tick as the counts, so progress never shows counts ahead of lines.
    this.onSettled(batch.length - again.length);
    if (again.length > 0) await this.sendBatch(again);
  }

  /**
   * One registerMany call for `batch` (one partition). Returns the lines to send
   * again: a batch the registry refused as invalid wrote nothing, so once the
   * invalid line it names is set aside, the others go again.
   */
  private async attempt(batch: StrategyLine[]): Promise<StrategyLine[]> {
    let result: RegisterManyResult;
    try {
      result = await this.client.registerMany(
        batch.map((l) => l.strategy),
        {
          batchSize: this.options.batchSize,
          concurrency: 1,
          encoding: this.options.encoding,
          timeoutMs: this.options.timeoutMs,
        },
      );
    } catch (err) {
      this.fail(batch, err);
      return [];
    }
    this.counts.registered += result.registered;
    for (const rejection of result.rejected) {
      const line = batch[rejection.index]?.line ?? 0;
      if (rejection.error.code === ErrorCodes.AlreadyExists) {
        this.counts.alreadyRegistered++;
      } else {
        this.counts.failed++;
        this.keep({ line, code: rejection.error.code, message: rejection.error.message });
      }
    }
    const again: StrategyLine[] = [];
    for (const failed of result.failed) {
      const lines = failed.indexes.map((i) => batch[i] as StrategyLine);
      if (failed.error instanceof ValidationError && failed.culprit !== undefined) {
        this.invalid(batch[failed.culprit] as StrategyLine, failed.error);
        again.push(...failed.indexes.filter((i) => i !== failed.culprit).map((i) => batch[i] as StrategyLine));
      } else if (failed.error instanceof ValidationError && lines.length === 1) {
        this.invalid(lines[0] as StrategyLine, failed.error);
      } else {
        this.fail(lines, failed.error);
      }
    }
    return again;
  }

  private invalid(line: StrategyLine, err: ValidationError): void {
    this.counts.invalid++;
    const field = withinStrategy(err.field);
    const message = err.field === undefined ? err.message : err.message.replace(err.field, field ?? "strategy");
    this.keep({ line: line.line, code: err.code, message, ...(field === undefined ? {} : { field }) });
  }

  private fail(batch: StrategyLine[], err: unknown): void {
    this.counts.failed += batch.length;
    const code = err instanceof StratregError ? err.code : ErrorCodes.Internal;
    const message = err instanceof Error ? err.message : String(err);
    const lines = batch.map((l) => l.line);
    this.keep({
      line: lines[0] ?? 0,
      lines,
      code,
      message: `a batch of ${lines.length} strategies failed: ${message}`,
    });
  }

  private keep(problem: LineProblem): void {
    if (this.problems.length < this.options.maxProblems) this.problems.push(problem);
    else this.problemsOmitted++;
  }
}
