/**
 * `stratreg search`: the hit table, and the built CLI end to end against a real
 * shard and a real search process (it follows the partition logs the shard
 * writes), including a filter that does not parse.
 */
import { fileURLToPath } from "node:url";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { StratregClient } from "@stratreg/client";
import { newStrategy, type SearchHit, type SearchReply, type StrategyInput } from "@stratreg/protocol";
import { type ServiceProcess, spawnService, uniqueClusterName, waitFor } from "@stratreg/testkit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { hitLines } from "./commands/search.js";
import { runCli, startCluster, type TestCluster } from "./testing/cli.js";

const SEARCH_ENTRY = fileURLToPath(new URL("../../../services/search/dist/main.js", import.meta.url));

describe("hitLines", () => {
  it("aligns id, version, score, state, family and name under a header, with dashes for what is missing", () => {
    const strategy = (input: StrategyInput) => newStrategy(input, 0);
    const hits: SearchHit[] = [
      {
        id: "mom-1",
        version: 3,
        score: 12.34567,
        strategy: strategy({ id: "mom-1", name: "Momentum", owner: "a", family: "momentum" }),
      },
      { id: "solo-22", version: 12, strategy: strategy({ id: "solo-22", name: "Solo", owner: "a" }) },
      { id: "bare", version: 1, score: 0.5 },
    ];
    expect(hitLines(hits, "score")).toEqual([
      "strategy  version  score   state      family    name",
      "mom-1     3        12.346  candidate  momentum  Momentum",
      "solo-22   12       –       candidate  –         Solo",
      "bare      1        0.500              –",
    ]);
    expect(hitLines([], "correlation")).toEqual(["strategy  version  correlation  state  family  name"]);
  });
});

describe("stratreg search against a shard and a search process", () => {
  let cluster: TestCluster;
  let search: ServiceProcess;
  let nc: NatsConnection;

  const STRATEGIES: StrategyInput[] = [
    {
      id: "cli-search-mom-1",
      name: "Equity momentum",
      owner: "desk",
      family: "momentum",
      tags: ["equities"],
      description: "twelve month cross sectional momentum",
    },
    { id: "cli-search-mom-2", name: "Futures trend", owner: "desk", family: "momentum", tags: ["futures"] },
    {
      id: "cli-search-rev-1",
      name: "Pairs",
      owner: "desk",
      family: "reversion",
      description: "cointegrated pairs with a kalman hedge",
    },
  ];

  beforeAll(async () => {
    const natsUrl = inject("natsUrl");
    const name = uniqueClusterName("cli-search");
    cluster = await startCluster(natsUrl, name, 1, 4);
    search = spawnService({
      entry: SEARCH_ENTRY,
      name: "cli-search",
      env: {
        NATS_URL: natsUrl,
        STRATREG_CLUSTER: name,
        STRATREG_SEARCH_ID: "cli-search",
        STRATREG_SEARCH_PROBE_MS: "50",
        LOG_LEVEL: "warn",
      },
    });
    nc = await connect({ servers: natsUrl });
    const client = await StratregClient.connect(nc, { cluster: name, timeoutMs: 15_000 });
    expect((await client.registerMany(STRATEGIES)).registered).toBe(STRATEGIES.length);
    let last: SearchReply | undefined;
    await waitFor(
      async () => {
        last = await client.search({ filter: "owner = 'desk'" }, { timeoutMs: 2000 }).catch(() => undefined);
        return last?.total === STRATEGIES.length;
      },
      { timeoutMs: 30_000, message: "the search process to hold every strategy registered" },
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\n${search.logs().slice(-20).join("\n")}`, { cause: err });
    });
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await search?.stop();
    await cluster?.stop();
  });

  it("prints the matching strategies as a table and how many matched, from which process", async () => {
    const run = await runCli(["search", "family = 'momentum' ORDER BY id DESC"], cluster.env);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^strategy +version +score +state +family +name$/);
    expect(lines.slice(1, 3)).toEqual([
      expect.stringMatching(/^cli-search-mom-2 +1 +– +candidate +momentum +Futures trend$/),
      expect.stringMatching(/^cli-search-mom-1 +1 +– +candidate +momentum +Equity momentum$/),
    ]);
    expect(lines[3]).toMatch(/^2 matches \(from cli-search, (current to \d+ ms ago|not yet current)\)$/);
  });

  it("pages with --limit, saying where the next page starts; --json prints the reply", async () => {
    const run = await runCli(["search", "--limit", "1", "owner = 'desk'"], cluster.env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/\ncli-search-mom-1 .*\n3 matches; next page: --offset 1 \(from cli-search/);
    const json = await runCli(["search", "--json", "--text", "kalmann"], cluster.env);
    expect(json.code).toBe(0);
    const reply = JSON.parse(json.stdout) as SearchReply;
    expect(reply).toMatchObject({ total: 1, next: null, member: "cli-search" });
    expect(reply.hits).toEqual([{ id: "cli-search-rev-1", version: 1, score: expect.any(Number) }]);
  });

  it("a filter that does not parse: the filter with a caret under the fault on stderr, exit code 1", async () => {
    const filter = "family = 'momentum' AND sharpe > 'high'";
    const run = await runCli(["search", filter], cluster.env);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    const [line, caret] = run.stderr.split("\n");
    expect(line).toBe(filter);
    expect(caret).toMatch(new RegExp(`^ {${filter.indexOf("'high'")}}\\^ .*sharpe`));
  });

  it("--like finds strategies similar in content, as a table or JSON; --like-text likewise", async () => {
    const run = await runCli(["search", "--like", "cli-search-mom-1", "--k", "2"], cluster.env);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^strategy\s+version\s+similarity/);
    expect(lines.slice(1, -1).map((l) => l.split(/\s+/)[0])).not.toContain("cli-search-mom-1");
    expect(lines.at(-1)).toMatch(/^\(from /);
    const json = await runCli(["search", "--json", "--like-text", "kalman pairs", "--k", "1"], cluster.env);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ by: "content", hits: [{ id: "cli-search-rev-1" }] });
    const byReturns = await runCli(["search", "--like", "cli-search-mom-1", "--by", "returns"], cluster.env);
    expect(byReturns.code).toBe(0);
    expect(byReturns.stdout).toMatch(/^strategy\s+version\s+correlation/);
  });
});
