/**
 * What the lifecycle keeps outside the partition logs, in JetStream KV buckets
 * of the cluster's replication: the gate thresholds operators set (per scope),
 * the trials recorded per family (what the Deflated Sharpe Ratio deflates by),
 * and the evidence last attached to each strategy, as it was sent.
 *
 * Names become KV keys as base64url, since family names and strategy ids may
 * hold characters a key may not (`:`, spaces).
 */
import type { KV } from "@nats-io/kv";
import {
  ConflictError,
  decode,
  ErrorCodes,
  encode,
  type GateScope,
  type GateThresholdsInput,
  UnavailableError,
} from "@stratreg/protocol";
import { DEFAULT_GATES, type FamilyTrials, type GateThresholds } from "@stratreg/quant";

/** A name as a KV key token. */
export function keyToken(name: string): string {
  return Buffer.from(name, "utf8").toString("base64url");
}

/** What one scope's thresholds were set to, by whom and when. */
export interface GateSetting {
  thresholds: GateThresholdsInput;
  by: string;
  at: number;
  note?: string;
  /** The KV revision: what `expectedRevision` names. */
  revision: number;
}

/** The thresholds in force for a strategy, and which settings made them. */
export interface ResolvedGates {
  thresholds: GateThresholds;
  /** The scopes that set something, widest first (`default`, `template:<t>`, `family:<f>`). */
  sources: string[];
}

function gateKey(scope: GateScope): string {
  if ("family" in scope) return `family.${keyToken(scope.family)}`;
  if ("template" in scope) return `template.${keyToken(scope.template)}`;
  return "default";
}

function scopeName(scope: GateScope): string {
  if ("family" in scope) return `family:${scope.family}`;
  if ("template" in scope) return `template:${scope.template}`;
  return "default";
}

/** Gate thresholds by scope: the seed's bar, then the operators' default, the template's, the family's. */
export class GateSettings {
  constructor(private readonly kv: KV) {}

  async read(scope: GateScope): Promise<GateSetting | undefined> {
    const entry = await this.kv.get(gateKey(scope));
    if (entry === null || entry.operation !== "PUT") return undefined;
    return { ...(decode(entry.value) as Omit<GateSetting, "revision">), revision: entry.revision };
  }

  /** The thresholds for a strategy of `family` instantiating `template` (either may be absent). */
  async resolve(family: string | null, template: string | null): Promise<ResolvedGates> {
    const scopes: GateScope[] = [{}];
    if (template !== null) scopes.push({ template });
    if (family !== null) scopes.push({ family });
    const settings = await Promise.all(scopes.map((scope) => this.read(scope)));
    let thresholds: GateThresholds = { ...DEFAULT_GATES };
    const sources: string[] = [];
    settings.forEach((setting, i) => {
      if (setting === undefined) return;
      thresholds = { ...thresholds, ...setting.thresholds };
      sources.push(scopeName(scopes[i] as GateScope));
    });
    return { thresholds, sources };
  }

  /**
   * Replaces a scope's thresholds. With `expectedRevision` (0: the scope has
   * none yet) the write happens only if nobody changed them since.
   */
  async set(scope: GateScope, setting: Omit<GateSetting, "revision">, expectedRevision?: number): Promise<GateSetting> {
    const key = gateKey(scope);
    const value = encode(setting);
    let revision: number;
    try {
      if (expectedRevision === undefined) revision = await this.kv.put(key, value);
      else if (expectedRevision === 0) revision = await this.kv.create(key, value);
      else revision = await this.kv.update(key, value, expectedRevision);
    } catch (err) {
      if (expectedRevision === undefined) throw err;
      const current = await this.read(scope);
      throw new ConflictError(
        ErrorCodes.Conflict,
        `the thresholds of ${scopeName(scope)} are at revision ${current?.revision ?? 0}, not ${expectedRevision}`,
        { details: { expected: expectedRevision, actual: current?.revision ?? 0 }, cause: err },
      );
    }
    return { ...setting, revision };
  }
}

/** A family's trials: how many variants its members' backtests tried, and the spread of their Sharpe ratios. */
interface TrialsRecord {
  trials: number;
  /** Moments of the Sharpe ratios recorded: count, mean, sum of squared deviations. */
  n: number;
  mean: number;
  m2: number;
}

/** How long a family's record is retried under contention before the attach fails (retryable). */
const CAS_DEADLINE_MS = 5000;

/** Trial additions waiting for their family's next write. */
interface PendingTrials {
  trials: number;
  sharpes: number[];
  done: Array<{ resolve: () => void; reject: (err: unknown) => void }>;
}

/**
 * Trials recorded per family, added to by every evidence attached to a member.
 * A shard writes each family's record with compare-and-set, one write in flight
 * per family: additions that arrive meanwhile go together in the next write, so
 * many members attaching at once cost a few writes, and contention is only
 * between shards.
 */
export class FamilyTrialsStore {
  private readonly pending = new Map<string, PendingTrials>();
  private readonly writing = new Set<string>();

  constructor(private readonly kv: KV) {}

  /** The family's trials so far (none recorded: zero trials, variance unknown). */
  async of(family: string): Promise<FamilyTrials & { revision: number }> {
    const entry = await this.kv.get(keyToken(family));
    if (entry === null || entry.operation !== "PUT") return { trials: 0, sharpeVariance: null, revision: 0 };
    const record = decode(entry.value) as TrialsRecord;
    return {
      trials: record.trials,
      sharpeVariance: record.n >= 2 ? record.m2 / (record.n - 1) : null,
      revision: entry.revision,
    };
  }

  /** Adds `trials` variants whose Sharpe ratios were `sharpes` to the family's record; resolves once stored. */
  add(family: string, trials: number, sharpes: readonly number[]): Promise<void> {
    return new Promise((resolve, reject) => {
      let batch = this.pending.get(family);
      if (batch === undefined) {
        batch = { trials: 0, sharpes: [], done: [] };
        this.pending.set(family, batch);
      }
      batch.trials += trials;
      batch.sharpes.push(...sharpes);
      batch.done.push({ resolve, reject });
      if (!this.writing.has(family)) void this.flush(family);
    });
  }

  private async flush(family: string): Promise<void> {
    this.writing.add(family);
    try {
      for (let batch = this.pending.get(family); batch !== undefined; batch = this.pending.get(family)) {
        this.pending.delete(family);
        try {
          await this.write(family, batch);
          for (const waiter of batch.done) waiter.resolve();
        } catch (err) {
          for (const waiter of batch.done) waiter.reject(err);
        }
      }
    } finally {
      this.writing.delete(family);
    }
  }

  /** One compare-and-set of the family's record with `batch` added, retried while another shard wins. */
  private async write(family: string, batch: PendingTrials): Promise<void> {
    const key = keyToken(family);
    const deadline = Date.now() + CAS_DEADLINE_MS;
    for (let attempt = 1; ; attempt++) {
      const entry = await this.kv.get(key);
      const exists = entry !== null && entry.operation === "PUT";
      const record: TrialsRecord = exists ? (decode(entry.value) as TrialsRecord) : { trials: 0, n: 0, mean: 0, m2: 0 };
      record.trials += batch.trials;
      for (const sharpe of batch.sharpes) {
        // Welford's update: the variance of all the family's recorded Sharpe ratios, in one pass.
        record.n += 1;
        const delta = sharpe - record.mean;
        record.mean += delta / record.n;
        record.m2 += delta * (sharpe - record.mean);
      }
      try {
        if (exists) await this.kv.update(key, encode(record), entry.revision);
        else await this.kv.create(key, encode(record));
        return;
      } catch (err) {
        if (Date.now() > deadline) {
          throw new UnavailableError(
            ErrorCodes.Unavailable,
            `the trials of family ${family} could not be recorded (${attempt} attempts); retry`,
            { cause: err },
          );
        }
        // Another shard wrote first: read again after a short, jittered pause.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 * attempt)));
      }
    }
  }
}

/** The evidence last attached to each strategy, kept as it was sent. */
export interface StoredEvidence {
  id: string;
  /** The strategy's version the evidence was attached at (the version after it). */
  version: number;
  evidence: unknown;
  at: number;
  by: string;
}

export class EvidenceStore {
  constructor(private readonly kv: KV) {}

  /** Stores the evidence; returns its KV revision. */
  put(evidence: StoredEvidence): Promise<number> {
    return this.kv.put(keyToken(evidence.id), encode(evidence));
  }

  async get(id: string): Promise<StoredEvidence | undefined> {
    const entry = await this.kv.get(keyToken(id));
    if (entry === null || entry.operation !== "PUT") return undefined;
    return decode(entry.value) as StoredEvidence;
  }
}
