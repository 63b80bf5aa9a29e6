import { newStrategy, type Strategy } from "@stratreg/protocol";
import { describe, expect, test } from "vitest";
import { TextIndex, typoBudget } from "./text.js";

/**
 * A labelled corpus: ten topics, each with hand-written names, description
 * sentences and tags, crossed with markets so that every topic has 16 strategies
 * whose texts differ as real ones do (same idea, other instruments and wording).
 * Relevance is by topic, plus a few labelled sub-topics for narrow queries.
 */
interface Topic {
  key: string;
  names: string[];
  sentences: string[];
  tags: string[][];
  markets: string[];
}

const TOPICS: Topic[] = [
  {
    key: "momentum",
    names: ["Cross-Sectional Momentum", "Time-Series Momentum", "Momentum Ranker", "Residual Momentum"],
    sentences: [
      "Buys the top decile of 12-1 month momentum and shorts the bottom decile, rebalanced monthly.",
      "Ranks the universe by trailing twelve month return skipping the most recent month.",
      "Residual momentum after removing market beta reduces crash risk in rebounds.",
      "Momentum signal is volatility scaled and capped at two standard deviations.",
    ],
    tags: [
      ["momentum", "equities"],
      ["momentum", "cross-sectional"],
      ["momentum", "factor"],
    ],
    markets: ["US equities", "European equities", "Japan equities", "sector ETFs"],
  },
  {
    key: "meanrev",
    names: ["Short-Term Mean Reversion", "Mean Reversion RSI", "Bollinger Mean Reversion", "Overnight Reversal"],
    sentences: [
      "Fades five day losers expecting mean reversion toward the moving average.",
      "Enters when RSI(2) drops below ten and exits on a close above the five day average.",
      "Bollinger band touches are faded with a stop beyond three standard deviations.",
      "Short horizon reversal after liquidity shocks; holding period one to three days.",
    ],
    tags: [
      ["mean-reversion", "equities"],
      ["mean-reversion", "reversal"],
      ["mean-reversion", "short-term"],
    ],
    markets: ["S&P 500 stocks", "Nasdaq 100 stocks", "FTSE 350 stocks", "liquid ADRs"],
  },
  {
    key: "statarb",
    names: ["Cointegrated Pairs", "Stat-Arb Basket", "Pairs Trading Distance", "Kalman Pairs"],
    sentences: [
      "Pairs are selected by Engle-Granger cointegration tests on a rolling two year window.",
      "Trades the z-score of the spread between two cointegrated stocks, entering at two sigma.",
      "Statistical arbitrage on residuals of a PCA factor model across the sector.",
      "A Kalman filter estimates the hedge ratio of each pair online.",
    ],
    tags: [
      ["stat-arb", "pairs"],
      ["stat-arb", "cointegration"],
      ["pairs", "market-neutral"],
    ],
    markets: ["US banks", "oil majors", "semiconductors", "REITs"],
  },
  {
    key: "mm",
    names: ["Avellaneda-Stoikov Market Maker", "Inventory-Skewed Quoter", "Passive Market Making", "Spread Capture"],
    sentences: [
      "Quotes both sides of the book with a reservation price skewed by inventory.",
      "Avellaneda-Stoikov optimal quotes with risk aversion tuned per symbol.",
      "Captures the bid-ask spread while hedging inventory in the futures.",
      "Cancels quotes when order book imbalance predicts adverse selection.",
    ],
    tags: [
      ["market-making", "hft"],
      ["market-making", "liquidity"],
      ["market-making", "inventory"],
    ],
    markets: ["BTC-USDT spot", "ETH-USDT spot", "EURUSD", "US treasury futures"],
  },
  {
    key: "vol",
    names: ["Short Volatility Carry", "Variance Risk Premium", "VIX Term Structure", "Long Gamma Straddles"],
    sentences: [
      "Sells one month straddles to harvest the variance risk premium, delta hedged daily.",
      "Trades the VIX futures roll yield when the term structure is in contango.",
      "Long gamma position bought ahead of earnings when implied volatility is cheap to realised.",
      "Implied minus realised volatility spread decides the size of the short vega book.",
    ],
    tags: [
      ["volatility", "options"],
      ["volatility", "vix"],
      ["volatility", "gamma"],
    ],
    markets: ["SPX options", "Euro Stoxx options", "single stock options", "VIX futures"],
  },
  {
    key: "carry",
    names: ["FX Carry", "G10 Carry Basket", "Rates Carry and Roll-Down", "Commodity Carry"],
    sentences: [
      "Long high-yielding currencies and short low-yielding ones, sized by forward points.",
      "Harvests the interest rate differential, cut when FX implied volatility spikes.",
      "Buys bonds with the steepest roll-down on the curve and funds in the repo market.",
      "Ranks commodity futures by backwardation and holds the highest roll yield.",
    ],
    tags: [
      ["carry", "fx"],
      ["carry", "rates"],
      ["carry", "macro"],
    ],
    markets: ["G10 currencies", "emerging market FX", "government bonds", "energy futures"],
  },
  {
    key: "trend",
    names: ["Managed Futures Trend", "Donchian Breakout", "Dual Moving Average Crossover", "CTA Trend Follower"],
    sentences: [
      "Trend following across a diversified futures portfolio with exponential moving average crossovers.",
      "Enters on a fifty day Donchian channel breakout and trails the stop at twenty days.",
      "Positions are sized by ATR so each futures contract carries equal risk.",
      "Classic CTA approach: long when the fast moving average is above the slow one.",
    ],
    tags: [
      ["trend-following", "futures"],
      ["trend-following", "cta"],
      ["trend-following", "managed-futures"],
    ],
    markets: ["commodity futures", "equity index futures", "bond futures", "currency futures"],
  },
  {
    key: "basis",
    names: ["Perpetual Funding Basis", "Cash-and-Carry Basis", "Funding Rate Harvester", "Perp-Spot Basis"],
    sentences: [
      "Long spot and short the perpetual swap to collect the funding rate when it is positive.",
      "Captures the basis between quarterly crypto futures and spot, held to expiry.",
      "Rotates between exchanges to the highest annualised funding payments.",
      "Delta-neutral crypto funding basis trade with margin kept on the derivatives venue.",
    ],
    tags: [
      ["crypto", "funding", "basis"],
      ["crypto", "perpetuals", "basis"],
      ["crypto", "funding"],
    ],
    markets: ["BTC", "ETH", "SOL", "altcoins"],
  },
  {
    key: "news",
    names: ["News Sentiment", "Earnings Drift", "Event-Driven Merger Arb", "Analyst Revision"],
    sentences: [
      "Scores headlines with a sentiment model and trades the first hour after release.",
      "Post-earnings announcement drift: buys positive surprises, holds sixty days.",
      "Merger arbitrage long the target and short the acquirer after announcement.",
      "Follows upward revisions of analyst earnings estimates.",
    ],
    tags: [
      ["event-driven", "news"],
      ["event-driven", "earnings"],
      ["event-driven", "sentiment"],
    ],
    markets: ["US large caps", "US small caps", "European large caps", "Asian large caps"],
  },
  {
    key: "dispersion",
    names: ["Index Dispersion", "Correlation Swap Replication", "Dispersion Straddles", "Implied Correlation"],
    sentences: [
      "Sells index options and buys constituent options when implied correlation is rich.",
      "Replicates a short correlation swap with a vega-weighted dispersion book.",
      "Dispersion trade sized by the gap between implied and realised correlation.",
      "Constituent straddles are weighted so the book is vega neutral at inception.",
    ],
    tags: [
      ["dispersion", "options"],
      ["dispersion", "correlation"],
      ["dispersion", "index"],
    ],
    markets: ["S&P 500", "Euro Stoxx 50", "Nikkei 225", "KOSPI 200"],
  },
];

const OWNERS = ["alice", "bruno", "chen", "dana", "emeka", "farah"];
/** Shared boilerplate, as real descriptions have: words every topic uses. */
const FILLER = "Risk limits are enforced by the platform gates and the desk reviews the book weekly.";

function corpus(): Strategy[] {
  const strategies: Strategy[] = [];
  for (const topic of TOPICS) {
    for (let i = 0; i < 16; i++) {
      const market = topic.markets[i % 4] as string;
      const name = `${topic.names[Math.floor(i / 4)] as string} ${market}`;
      const first = topic.sentences[i % 4] as string;
      const second = topic.sentences[(i + 1 + Math.floor(i / 4)) % 4] as string;
      const description = `${first} Applied to ${market}. ${i % 3 === 0 ? `${second} ` : ""}${FILLER}`;
      strategies.push(
        newStrategy(
          {
            id: `${topic.key}-${i}`,
            name,
            description,
            tags: topic.tags[i % 3] as string[],
            owner: OWNERS[(i + topic.key.length) % OWNERS.length] as string,
          },
          0,
        ),
      );
    }
  }
  return strategies;
}

const STRATEGIES = corpus();
const ids = (topic: string): string[] => STRATEGIES.filter((s) => s.id.startsWith(`${topic}-`)).map((s) => s.id);
const matching = (pattern: RegExp): string[] =>
  STRATEGIES.filter((s) => pattern.test(`${s.name} ${s.description} ${s.tags.join(" ")}`)).map((s) => s.id);

interface LabelledQuery {
  query: string;
  relevant: string[];
  /** Spelled as in the corpus: the top result must be relevant. */
  exact: boolean;
}

const QUERIES: LabelledQuery[] = [
  { query: "momentum", relevant: ids("momentum"), exact: true },
  { query: "mean reversion", relevant: ids("meanrev"), exact: true },
  { query: "pairs trading cointegration", relevant: ids("statarb"), exact: true },
  { query: "market making inventory", relevant: ids("mm"), exact: true },
  { query: "variance risk premium", relevant: ids("vol"), exact: true },
  { query: "fx carry", relevant: ids("carry"), exact: true },
  { query: "trend following futures", relevant: ids("trend"), exact: true },
  { query: "crypto funding basis", relevant: ids("basis"), exact: true },
  { query: "earnings drift", relevant: matching(/earnings/i), exact: true },
  { query: "dispersion implied correlation", relevant: ids("dispersion"), exact: true },
  { query: "avellaneda stoikov", relevant: matching(/avellaneda/i), exact: true },
  { query: "kalman filter hedge ratio", relevant: matching(/kalman/i), exact: true },
  { query: "donchian breakout", relevant: matching(/donchian/i), exact: true },
  { query: "perpetual swap", relevant: matching(/perpetual/i), exact: true },
  { query: "vix term structure contango", relevant: matching(/vix/i), exact: true },
  // Typos.
  { query: "momentm", relevant: ids("momentum"), exact: false },
  { query: "mean revrsion", relevant: ids("meanrev"), exact: false },
  { query: "cointegraton", relevant: matching(/cointegrat/i), exact: false },
  { query: "volatilty", relevant: ids("vol"), exact: false },
  { query: "dispresion", relevant: ids("dispersion"), exact: false },
  { query: "marekt making", relevant: ids("mm"), exact: false },
  // Prefixes, as typed.
  { query: "stat-ar", relevant: ids("statarb"), exact: false },
  { query: "trend-foll", relevant: ids("trend"), exact: false },
  { query: "mome", relevant: ids("momentum"), exact: false },
  { query: "funding ra", relevant: ids("basis"), exact: false },
];

/** Recall at k: the share of the relevant ids in the top k, out of at most k that could be there. */
function recallAt(k: number, found: string[], relevant: string[]): number {
  const wanted = new Set(relevant);
  const hits = found.slice(0, k).filter((id) => wanted.has(id)).length;
  return hits / Math.min(k, relevant.length);
}

function indexOf(strategies: Strategy[]): TextIndex {
  const index = new TextIndex();
  for (const s of strategies) index.upsert(s);
  return index;
}

describe("TextIndex on a labelled corpus", () => {
  const index = indexOf(STRATEGIES);

  test("the corpus and its labels are what the queries assume", () => {
    expect(STRATEGIES.length).toBeGreaterThanOrEqual(150);
    expect(index.size).toBe(STRATEGIES.length);
    expect(QUERIES.length).toBeGreaterThanOrEqual(20);
    for (const { query, relevant } of QUERIES) expect(relevant.length, query).toBeGreaterThan(0);
  });

  test("recall@10 over all labelled queries is at least 0.9", () => {
    const recalls = QUERIES.map(({ query, relevant }) => {
      const found = index.search(query, { limit: 10 }).map((hit) => hit.id);
      return { query, recall: recallAt(10, found, relevant) };
    });
    const mean = recalls.reduce((sum, r) => sum + r.recall, 0) / recalls.length;
    expect(mean, JSON.stringify(recalls.filter((r) => r.recall < 1))).toBeGreaterThanOrEqual(0.9);
  });

  test.each(QUERIES.filter((q) => q.exact))("the top result for '$query' is relevant", ({ query, relevant }) => {
    const top = index.search(query, { limit: 1 })[0];
    expect(top && relevant.includes(top.id)).toBe(true);
  });

  test("typos match within the edit distance scaled to the term's length", () => {
    expect([typoBudget("arb"), typoBudget("basis"), typoBudget("momentum")]).toEqual([0, 1, 2]);
    const hit = index.search("momentm", { limit: 1 })[0];
    expect(hit?.terms).toContain("momentum");
    expect(index.search("momentm", { fuzzy: false, prefix: "none" })).toEqual([]);
  });

  test("prefixes match the last term by default, every term when asked, none when not", () => {
    expect(index.search("stat-ar", { prefix: "none" }).every((hit) => !hit.terms.includes("arb"))).toBe(true);
    expect(index.search("stat-ar")[0]?.terms).toContain("arb");
    const firstTermOnly = index.search("mome reversion", { fuzzy: false, limit: 200 });
    expect(firstTermOnly.some((hit) => hit.id.startsWith("momentum-"))).toBe(false);
    const everyTerm = index.search("mome reversion", { fuzzy: false, prefix: "all", limit: 200 });
    expect(everyTerm.some((hit) => hit.id.startsWith("momentum-"))).toBe(true);
  });

  test("allTerms keeps only strategies matching every term", () => {
    const hits = index.search("kalman pairs", { allTerms: true, fuzzy: false, prefix: "none", limit: 100 });
    expect(hits.length).toBeGreaterThan(0);
    for (const hit of hits) expect(Object.keys(hit.match)).toEqual(expect.arrayContaining(["kalman", "pairs"]));
  });

  test("reports the fields each term matched in", () => {
    const hit = index.search("avellaneda", { limit: 1 })[0];
    expect(hit?.match.avellaneda).toContain("name");
  });

  test("an empty or stop-word-only query finds nothing", () => {
    expect(index.search("")).toEqual([]);
    expect(index.search("the of and")).toEqual([]);
  });
});

describe("TextIndex ranking", () => {
  const long = `${"The book is rebalanced on a schedule and sized by the risk budget of the desk. ".repeat(20)}It also looks at gamma.`;
  const strategies = [
    newStrategy({ id: "in-description", name: "Options Book", owner: "a", description: long }, 0),
    newStrategy({ id: "in-name", name: "Gamma Scalper", owner: "a", description: "Hedges a long options book." }, 0),
    newStrategy({ id: "in-tags", name: "Options Book Two", owner: "a", tags: ["gamma"], description: "Hedges." }, 0),
  ];
  const index = indexOf(strategies);

  test("a term in the name outranks it in a tag, which outranks it in a long description", () => {
    expect(index.search("gamma").map((hit) => hit.id)).toEqual(["in-name", "in-tags", "in-description"]);
  });

  test("an exact match outranks a typo or a prefix match", () => {
    const index = indexOf([
      newStrategy({ id: "exact", name: "Basis", owner: "a" }, 0),
      newStrategy({ id: "typo", name: "Basic", owner: "a" }, 0),
      newStrategy({ id: "longer", name: "Basisswap", owner: "a" }, 0),
    ]);
    expect(index.search("basis", { prefix: "all" }).map((hit) => hit.id)[0]).toBe("exact");
  });
});

describe("TextIndex options", () => {
  test("descriptionChars indexes only the leading words of descriptions", () => {
    const index = new TextIndex({ descriptionChars: 24 });
    index.upsert(
      newStrategy({ id: "s", name: "Book", owner: "a", description: "Harvests the funding basis of perpetuals" }, 0),
    );
    expect(index.search("funding", { fuzzy: false }).map((hit) => hit.id)).toEqual(["s"]);
    // "basis" straddles the 24th character: the cut drops it whole rather than index "bas".
    expect(index.search("basis", { fuzzy: false, prefix: "none" })).toEqual([]);
    expect(index.search("bas", { fuzzy: false, prefix: "none" })).toEqual([]);
    expect(index.search("perpetuals", { fuzzy: false })).toEqual([]);
    expect(() => new TextIndex({ descriptionChars: -1 })).toThrow(RangeError);
  });
});

describe("TextIndex updates", () => {
  const strategy = newStrategy({ id: "s1", name: "Carry Basket", owner: "alice", tags: ["fx"] }, 0);

  test("a later version replaces the earlier one; an older or equal one is ignored", () => {
    const index = indexOf([strategy]);
    const renamed: Strategy = { ...strategy, name: "Momentum Basket", version: 2 };
    expect(index.upsert(renamed)).toBe(true);
    expect(index.search("carry", { fuzzy: false })).toEqual([]);
    expect(index.search("momentum").map((hit) => hit.id)).toEqual(["s1"]);
    expect(index.upsert(strategy)).toBe(false);
    expect(index.upsert(renamed)).toBe(false);
    expect(index.search("carry", { fuzzy: false })).toEqual([]);
    expect(index.size).toBe(1);
  });

  test("a retired strategy stays searchable; a removed one does not", () => {
    const index = indexOf([strategy]);
    index.upsert({ ...strategy, state: "retired", version: 2 });
    expect(index.search("carry").map((hit) => hit.id)).toEqual(["s1"]);
    expect(index.remove("s1")).toBe(true);
    expect(index.remove("s1")).toBe(false);
    expect(index.search("carry")).toEqual([]);
    expect(index.size).toBe(0);
    expect(index.has("s1")).toBe(false);
  });

  test("many replacements leave one document per id, searchable by its latest text", async () => {
    const index = indexOf([]);
    for (let version = 1; version <= 3000; version++) {
      index.upsert({ ...strategy, name: `Carry Basket v${version}`, version });
    }
    expect(index.size).toBe(1);
    expect(index.search("v3000", { fuzzy: false }).map((hit) => hit.id)).toEqual(["s1"]);
    expect(index.search("v2999", { fuzzy: false, prefix: "none" })).toEqual([]);
  });
});
