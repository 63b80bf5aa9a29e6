/**
 * Similarity by content: the content embeddings of every strategy and exact
 * k-nearest-neighbour search over them, behind one small surface.
 */
import type { Strategy } from "@stratreg/protocol";
import { ContentEmbeddings, type EmbeddingOptions } from "./embedding.js";
import { nearestRows } from "./knn.js";

/** A strategy similar in content, with the cosine of the two embeddings. */
export interface ContentMatch {
  id: string;
  /** Cosine in [−1, 1]; above about 0.3 the two share much of their wording and structure. */
  score: number;
}

/** Strategies similar in content to a strategy or to a text. */
export class ContentIndex {
  readonly #embeddings: ContentEmbeddings;

  constructor(options: EmbeddingOptions = {}) {
    this.#embeddings = new ContentEmbeddings(options);
  }

  /** How many strategies are indexed. */
  get size(): number {
    return this.#embeddings.size;
  }

  /** Indexes a strategy, replacing an earlier version; false (no change) for a version not newer. */
  upsert(strategy: Strategy): boolean {
    return this.#embeddings.upsert(strategy);
  }

  /** Drops a strategy. Returns whether it was there. */
  remove(id: string): boolean {
    return this.#embeddings.remove(id);
  }

  /**
   * Re-projects every vector under the current IDF. Done by itself whenever the
   * count moves by a quarter; call it after loading many strategies at once.
   */
  refresh(): void {
    this.#embeddings.refresh();
  }

  /** The k strategies most similar in content to an indexed one (not itself), most similar first; empty for an unknown id. */
  similar(id: string, k: number): ContentMatch[] {
    const row = this.#embeddings.rowOf(id);
    const vector = this.#embeddings.vectorOf(id);
    if (row === undefined || vector === undefined) return [];
    return this.#nearest(vector, k, row);
  }

  /** The k strategies whose content is nearest a free text (its words against theirs), most similar first. */
  similarToText(text: string, k: number): ContentMatch[] {
    return this.#nearest(this.#embeddings.embedText(text), k);
  }

  /** The k strategies nearest a strategy that need not be indexed (e.g. one about to be registered). */
  similarToStrategy(strategy: Strategy, k: number): ContentMatch[] {
    const row = this.#embeddings.rowOf(strategy.id);
    return this.#nearest(this.#embeddings.embedStrategy(strategy), k, row);
  }

  #nearest(vector: Float32Array, k: number, excludeRow?: number): ContentMatch[] {
    const embeddings = this.#embeddings;
    const rows = {
      vectors: embeddings.vectors,
      dims: embeddings.dims,
      rowCount: embeddings.rowCount,
      live: embeddings.live,
    };
    const options = excludeRow === undefined ? {} : { excludeRow };
    return nearestRows(rows, vector, k, options).map(({ row, score }) => ({
      id: embeddings.idAt(row) as string,
      score,
    }));
  }
}
