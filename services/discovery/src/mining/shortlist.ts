/**
 * The shortlist: the best candidates of a search that are not the same bet twice. A genetic
 * population converges on one idea in many spellings (`sma` for `ema`, a window of 20 for 50);
 * handing validation twenty of them would spend its held-out data on one pattern. Two candidates
 * are near-duplicates when their behaviour sketches correlate at |ρ| ≥ the limit (a mirror image
 * is as unoriginal as the bet it mirrors); of two near-duplicates, the better one stays.
 *
 * Kept up to date as candidates arrive, best first, so it never needs every sketch the search has
 * seen: a newcomer enters when it beats every member it duplicates (those leave) and there is
 * room, or it beats the last member (who then leaves).
 */
import { type Behaviour, behaviourDistance, prepareBehaviour } from "@stratreg/alpha";

/** Candidates a shortlist keeps, by default. */
export const DEFAULT_SHORTLIST_SIZE = 20;
/** |correlation| of behaviour sketches from which two candidates are near-duplicates, by default. */
export const DEFAULT_MAX_CORRELATION = 0.9;

/** A shortlisted candidate, as the search reports it. */
export interface ShortlistedCandidate {
  /** The strategy's canonical text. */
  readonly text: string;
  /** Its annualised net Sharpe ratio on the training window. */
  readonly trainSharpe: number;
  readonly trades: number;
  readonly exposure: number;
  /** Nodes in its tree. */
  readonly size: number;
  /** trainSharpe − parsimony·size: what the shortlist ranks by. */
  readonly adjusted: number;
}

/** A shortlisted candidate with its behaviour sketch (what a checkpoint keeps). */
export interface SketchedCandidate extends ShortlistedCandidate {
  readonly sketch: Float64Array;
}

interface Member extends SketchedCandidate {
  readonly behaviour: Behaviour;
}

/** Best first: adjusted fitness, then the smaller tree, then the text (alpha's order, so ties break alike). */
export function rankCandidates(a: ShortlistedCandidate, b: ShortlistedCandidate): number {
  return b.adjusted - a.adjusted || a.size - b.size || (a.text < b.text ? -1 : a.text > b.text ? 1 : 0);
}

/** The best candidates so far that are mutually not near-duplicates. */
export class Shortlist {
  readonly #members: Member[] = [];

  /** RangeError unless `capacity` ≥ 1 and `maxCorrelation` is in (0, 1]. */
  constructor(
    readonly capacity: number = DEFAULT_SHORTLIST_SIZE,
    readonly maxCorrelation: number = DEFAULT_MAX_CORRELATION,
  ) {
    if (!(Number.isInteger(capacity) && capacity >= 1)) throw new RangeError(`capacity must be ≥ 1, got ${capacity}`);
    if (!(maxCorrelation > 0 && maxCorrelation <= 1)) {
      throw new RangeError(`maxCorrelation must be in (0, 1], got ${maxCorrelation}`);
    }
  }

  /**
   * Offers a candidate with a finite adjusted fitness (others are refused); true when it entered.
   * Offer candidates in a fixed order: which of two equal near-duplicates stays depends on it.
   */
  offer(candidate: SketchedCandidate): boolean {
    if (!Number.isFinite(candidate.adjusted)) return false;
    const members = this.#members;
    const last = members[members.length - 1];
    if (members.length >= this.capacity && last !== undefined && rankCandidates(candidate, last) >= 0) return false;
    const behaviour = prepareBehaviour(candidate.sketch);
    const duplicates = new Set<Member>();
    for (const member of members) {
      const same =
        member.text === candidate.text ||
        (member.behaviour.length === behaviour.length &&
          1 - behaviourDistance(member.behaviour, behaviour) >= this.maxCorrelation);
      if (!same) continue;
      if (rankCandidates(member, candidate) <= 0) return false;
      duplicates.add(member);
    }
    const kept = members.filter((member) => !duplicates.has(member));
    kept.push({ ...candidate, behaviour });
    kept.sort(rankCandidates);
    this.#members.splice(0, members.length, ...kept.slice(0, this.capacity));
    return true;
  }

  /** The shortlist, best first, without sketches. */
  candidates(): ShortlistedCandidate[] {
    return this.#members.map(({ text, trainSharpe, trades, exposure, size, adjusted }) => ({
      text,
      trainSharpe,
      trades,
      exposure,
      size,
      adjusted,
    }));
  }

  /** The shortlist, best first, with sketches. */
  sketched(): SketchedCandidate[] {
    return this.#members.map(({ behaviour: _, ...candidate }) => candidate);
  }
}
