/**
 * The search process's replica of every strategy, kept by @stratreg/replica's
 * follower from the partition logs: each strategy decoded once per version,
 * its partition's performance book (metrics exactly as the shards compute
 * them), the full-text and content indexes, recent returns for similarity by
 * behaviour, and small inverted maps for the fields filters most often pin
 * (state, owner, family, template, tags), and the children index of
 * genealogy (parent → the strategies naming it).
 */
import {
  decode,
  type LogEntryLayout,
  LogOps,
  METRIC_INDEX,
  type Metric,
  recordAt,
  type Strategy,
} from "@stratreg/protocol";
import { type LoggedReport, PerformanceBook, type ReplicaTarget } from "@stratreg/replica";
import {
  BehaviourIndex,
  ContentIndex,
  type IndexConstraint,
  type IndexedField,
  type SearchDocument,
  TextIndex,
} from "@stratreg/search";
import type { GenealogyDoc, Pedigree } from "./genealogy.js";

/** One strategy as search holds it. */
export class StrategyDoc implements SearchDocument, GenealogyDoc {
  /** The last genealogy walk that reached it (genealogy.ts). */
  walk = 0;

  constructor(
    public strategy: Readonly<Strategy>,
    readonly partition: number,
    private readonly books: PerformanceBook[],
  ) {}

  metric(name: Metric): number | null {
    const perf = (this.books[this.partition] as PerformanceBook).get(this.strategy.id);
    if (perf === undefined) return null;
    return perf.metricVectors().overall[METRIC_INDEX[name]] ?? null;
  }
}

/** Values of an indexed field of a strategy (several for tags). */
function valuesOf(strategy: Readonly<Strategy>, field: IndexedField): string[] {
  switch (field) {
    case "state":
      return [strategy.state];
    case "owner":
      return [strategy.owner];
    case "family":
      return strategy.family === null ? [] : [strategy.family];
    case "template":
      return strategy.template === null ? [] : [strategy.template.id];
    case "tags":
      return strategy.tags as string[];
  }
}

const EMPTY: ReadonlySet<string> = new Set();
const NO_DOCS: ReadonlySet<StrategyDoc> = new Set();

const INDEXED: readonly IndexedField[] = ["state", "owner", "family", "template", "tags"];

/** Whether two versions differ in what full text and content similarity read. */
function textChanged(a: Readonly<Strategy>, b: Readonly<Strategy>): boolean {
  return (
    a.name !== b.name ||
    a.description !== b.description ||
    a.owner !== b.owner ||
    a.tags.join("\u0000") !== b.tags.join("\u0000") ||
    JSON.stringify(a.template) !== JSON.stringify(b.template) ||
    JSON.stringify(a.venues) !== JSON.stringify(b.venues)
  );
}

/** Distinct parents of a strategy. */
function distinctParents(strategy: Readonly<Strategy>): readonly string[] {
  return strategy.parents.length < 2 ? strategy.parents : [...new Set(strategy.parents)];
}

/** Every strategy of the cluster with its indexes; a {@link ReplicaTarget} of every partition. */
export class StrategyIndex implements ReplicaTarget, Pedigree {
  readonly docs = new Map<string, StrategyDoc>();
  readonly text = new TextIndex();
  readonly content = new ContentIndex();
  readonly behaviour = new BehaviourIndex();
  private readonly books: PerformanceBook[];
  private readonly byPartition: Array<Set<string>>;
  private readonly inverted = new Map<IndexedField, Map<string, Set<string>>>(
    INDEXED.map((field) => [field, new Map()]),
  );
  /** Parent id (held or not) → the strategies held naming it among their parents. */
  private readonly children = new Map<string, Set<StrategyDoc>>();
  /** Strategies naming two or more distinct parents. */
  private readonly crossable = new Set<string>();

  constructor(partitions: number) {
    this.books = Array.from({ length: partitions }, () => new PerformanceBook(() => undefined));
    this.byPartition = Array.from({ length: partitions }, () => new Set());
  }

  /** Strategies held. */
  get size(): number {
    return this.docs.size;
  }

  restore(partition: number, snapshot: LogEntryLayout | undefined): void {
    const held = [...(this.byPartition[partition] as Set<string>)];
    for (const id of held) this.remove(id);
    const book = new PerformanceBook(() => undefined);
    this.books[partition] = book;
    if (snapshot !== undefined) {
      snapshot.ids.forEach((_, i) => {
        this.upsert(partition, decode(recordAt(snapshot, i)) as Strategy);
      });
      const perf = snapshot.head?.perf;
      if (perf instanceof Uint8Array) book.restore(perf);
    }
    // A snapshot carries no return series: those of strategies it still holds are kept, the others would
    // otherwise linger as neighbours by returns of strategies search no longer knows.
    for (const id of held) if (!this.docs.has(id)) this.behaviour.remove(id);
  }

  apply(partition: number, entry: LogEntryLayout): void {
    if (entry.op === LogOps.Report) {
      const reports = entry.ids.map((_, i) => decode(recordAt(entry, i)) as LoggedReport);
      const book = this.books[partition] as PerformanceBook;
      book.applyReports(entry.ids, reports);
      // Maturity phases are the shards' to settle; search only keeps the set from growing.
      book.takeMaturityDue();
      entry.ids.forEach((id, i) => {
        this.addReturns(id, reports[i] as LoggedReport);
      });
      return;
    }
    if (entry.op === LogOps.Epoch || entry.records.length === 0) return;
    entry.ids.forEach((_, i) => {
      this.upsert(partition, decode(recordAt(entry, i)) as Strategy);
    });
  }

  /** A report's returns, for similarity by behaviour (reports without period times cannot be aligned). */
  addReturns(id: string, report: Pick<LoggedReport, "times" | "returns">): void {
    const { times, returns } = report;
    if (times === undefined || returns === undefined || times.length !== returns.length || times.length === 0) return;
    this.behaviour.addReturns(id, times, returns);
  }

  /**
   * The documents a query must look at: those matching every index-able
   * constraint (the smallest set first), or every document when there is none.
   */
  candidates(constraints: IndexConstraint[]): Iterable<StrategyDoc> {
    if (constraints.length === 0) return this.docs.values();
    // The index's own sets where a constraint has one value (no copy); a union only for IN.
    const sets = constraints.map((constraint) => {
      const map = this.inverted.get(constraint.field) as Map<string, Set<string>>;
      if (constraint.values.length === 1) return map.get(constraint.values[0] as string) ?? EMPTY;
      const ids = new Set<string>();
      for (const value of constraint.values) for (const id of map.get(value) ?? EMPTY) ids.add(id);
      return ids;
    });
    sets.sort((a, b) => a.size - b.size);
    const [smallest, ...rest] = sets as [ReadonlySet<string>, ...ReadonlySet<string>[]];
    const out: StrategyDoc[] = [];
    for (const id of smallest) {
      if (rest.every((set) => set.has(id))) out.push(this.docs.get(id) as StrategyDoc);
    }
    return out;
  }

  private upsert(partition: number, strategy: Strategy): void {
    const id = strategy.id;
    const previous = this.docs.get(id);
    if (previous !== undefined) {
      this.unindex(previous.strategy);
      const changed = textChanged(previous.strategy, strategy);
      previous.strategy = strategy;
      if (changed) {
        this.text.upsert(strategy);
        this.content.upsert(strategy);
      }
    } else {
      this.docs.set(id, new StrategyDoc(strategy, partition, this.books));
      (this.byPartition[partition] as Set<string>).add(id);
      this.text.upsert(strategy);
      this.content.upsert(strategy);
    }
    this.index(strategy);
  }

  private remove(id: string): void {
    const doc = this.docs.get(id);
    if (doc === undefined) return;
    this.unindex(doc.strategy);
    this.docs.delete(id);
    (this.byPartition[doc.partition] as Set<string>).delete(id);
    this.text.remove(id);
    this.content.remove(id);
  }

  // ---- Pedigree (genealogy.ts) -------------------------------------------------------------------

  doc(id: string): StrategyDoc | undefined {
    return this.docs.get(id);
  }

  childrenOf(id: string): ReadonlySet<StrategyDoc> {
    return this.children.get(id) ?? NO_DOCS;
  }

  parentIds(): Iterable<string> {
    return this.children.keys();
  }

  membersOf(family: string): ReadonlySet<string> {
    return (this.inverted.get("family") as Map<string, Set<string>>).get(family) ?? EMPTY;
  }

  multiParent(): Iterable<string> {
    return this.crossable;
  }

  private index(strategy: Readonly<Strategy>): void {
    const parents = distinctParents(strategy);
    const doc = this.docs.get(strategy.id) as StrategyDoc;
    for (const parent of parents) {
      let docs = this.children.get(parent);
      if (docs === undefined) {
        docs = new Set();
        this.children.set(parent, docs);
      }
      docs.add(doc);
    }
    if (parents.length >= 2) this.crossable.add(strategy.id);
    for (const field of INDEXED) {
      const map = this.inverted.get(field) as Map<string, Set<string>>;
      for (const value of valuesOf(strategy, field)) {
        let ids = map.get(value);
        if (ids === undefined) {
          ids = new Set();
          map.set(value, ids);
        }
        ids.add(strategy.id);
      }
    }
  }

  private unindex(strategy: Readonly<Strategy>): void {
    const doc = this.docs.get(strategy.id) as StrategyDoc;
    for (const parent of distinctParents(strategy)) {
      const docs = this.children.get(parent);
      docs?.delete(doc);
      if (docs?.size === 0) this.children.delete(parent);
    }
    this.crossable.delete(strategy.id);
    for (const field of INDEXED) {
      const map = this.inverted.get(field) as Map<string, Set<string>>;
      for (const value of valuesOf(strategy, field)) {
        const ids = map.get(value);
        ids?.delete(strategy.id);
        if (ids?.size === 0) map.delete(value);
      }
    }
  }
}
