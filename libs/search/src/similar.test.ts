import { newStrategy, type Strategy } from "@stratreg/protocol";
import { describe, expect, test } from "vitest";
import { ContentIndex } from "./similar.js";

/** Four kinds of strategy, each built from its own template, on its own venues, in its own words. */
const KINDS = {
  momentum: {
    words: ["momentum ranking of trailing returns", "buys winners and sells losers", "twelve month momentum signal"],
    tags: ["momentum", "equities"],
    template: "xs-momentum",
    params: { lookback: 252, skip: 21, deciles: 10 },
    venue: "nyse",
  },
  basis: {
    words: ["collects the perpetual funding rate", "long spot short perpetual swap", "crypto basis held to expiry"],
    tags: ["crypto", "funding", "basis"],
    template: "perp-basis",
    params: { minFunding: 0.0001, leverage: 3 },
    venue: "binance",
  },
  maker: {
    words: ["quotes both sides of the order book", "inventory skewed reservation price", "captures the bid ask spread"],
    tags: ["market-making", "hft"],
    template: "avellaneda-stoikov",
    params: { gamma: 0.1, kappa: 1.5, horizon: 60 },
    venue: "cme",
  },
  carry: {
    words: ["long high yielding currencies", "interest rate differential harvest", "forward points carry ranking"],
    tags: ["carry", "fx"],
    template: "fx-carry",
    params: { basketSize: 3, rebalanceDays: 30 },
    venue: "ebs",
  },
} as const;

function corpus(): Strategy[] {
  const strategies: Strategy[] = [];
  for (const [kind, spec] of Object.entries(KINDS)) {
    for (let i = 0; i < 6; i++) {
      strategies.push(
        newStrategy(
          {
            id: `${kind}-${i}`,
            name: `${spec.tags[0]} ${["alpha", "core", "plus", "lite", "pro", "max"][i]}`,
            owner: "quant",
            description: `${spec.words[i % 3]}. ${spec.words[(i + 1) % 3]}.`,
            tags: [...spec.tags],
            template: { id: spec.template, params: { ...spec.params } },
            venues: [{ venue: spec.venue, symbols: [] }],
          },
          0,
        ),
      );
    }
  }
  return strategies;
}

const kindOf = (id: string): string => id.split("-")[0] as string;

describe("ContentIndex", () => {
  const index = new ContentIndex();
  for (const s of corpus()) index.upsert(s);

  test("a strategy's nearest neighbours are of its kind, and never itself", () => {
    for (const id of ["momentum-0", "basis-3", "maker-5", "carry-2"]) {
      const found = index.similar(id, 5);
      expect(found).toHaveLength(5);
      expect(found.map((m) => m.id)).not.toContain(id);
      for (const m of found) expect(kindOf(m.id), `${id} → ${m.id}`).toBe(kindOf(id));
      expect(found.map((m) => m.score)).toEqual([...found.map((m) => m.score)].sort((a, b) => b - a));
    }
  });

  test("a text finds strategies that use its words", () => {
    for (const m of index.similarToText("perpetual funding basis", 3)) expect(kindOf(m.id)).toBe("basis");
    for (const m of index.similarToText("bid ask spread order book", 3)) expect(kindOf(m.id)).toBe("maker");
    expect(index.similarToText("zzzz unknown words", 3)).toEqual([]);
  });

  test("a strategy about to be registered finds its kind", () => {
    const draft = newStrategy(
      {
        id: "draft",
        name: "FX carry basket",
        owner: "quant",
        tags: ["carry", "fx"],
        template: { id: "fx-carry", params: { basketSize: 4 } },
      },
      0,
    );
    for (const m of index.similarToStrategy(draft, 4)) expect(kindOf(m.id)).toBe("carry");
  });

  test("an update moves a strategy to its new neighbours; a removed one is never found", () => {
    const local = new ContentIndex();
    const strategies = corpus();
    for (const s of strategies) local.upsert(s);
    const basis = strategies.find((s) => s.id === "basis-0") as Strategy;
    const maker = KINDS.maker;
    local.upsert({
      ...basis,
      version: 2,
      name: "market-making desk",
      description: `${maker.words[0]}. ${maker.words[1]}.`,
      tags: [...maker.tags],
      template: { id: maker.template, params: { ...maker.params } },
      venues: [{ venue: maker.venue, symbols: [] }],
    });
    for (const m of local.similar("basis-0", 5)) expect(kindOf(m.id)).toBe("maker");
    expect(local.remove("maker-1")).toBe(true);
    expect(local.similar("maker-0", 30).map((m) => m.id)).not.toContain("maker-1");
    expect(local.similar("maker-1", 5)).toEqual([]);
    expect(local.size).toBe(23);
  });
});
