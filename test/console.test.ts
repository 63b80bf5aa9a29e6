/**
 * The operator console in a real headless Chromium (Debian's `chromium`, driven by
 * playwright-core; nothing is downloaded), against a real nats-server running the
 * shipped config (users and permissions) with its WebSocket listener on a free port,
 * and real shard, ranker, risk guard, graph, search and discovery processes. The page
 * loads and shows every view (screenshots go to test-results/console/, or docs/console/ with
 * STRATREG_UPDATE_SCREENSHOTS=1), the top-k view follows
 * reports, an operator's halt reaches the risk guard and the page shows HALTED, and a
 * viewer's halt is refused by NATS itself and changes nothing.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { DiscoveryClient, RiskClient, StratregClient } from "@stratreg/client";
import { type ConsoleServer, startConsoleServer } from "@stratreg/console";
import { type BarSeries, generateMarket } from "@stratreg/market";
import { clusterSubjects, type RunProgress, TradingStates } from "@stratreg/protocol";
import {
  freePort,
  type NatsServerProcess,
  type ServiceProcess,
  spawnService,
  startNatsServer,
  testNatsConfig,
  waitFor,
} from "@stratreg/testkit";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GRAPH_ENTRY } from "./support/graph.js";
import { RANKER_ENTRY } from "./support/ranking.js";
import { FAST_MEMBERSHIP, SHARD_ENTRY, waitForServing } from "./support/registry.js";
import { GUARD_ENTRY } from "./support/risk.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CONFIG = join(ROOT, "config/nats-server.conf");
/**
 * Where the screenshots go: `test-results/console/` on every run (ignored by git), and
 * `docs/console/`, which the README links, when STRATREG_UPDATE_SCREENSHOTS=1 asks to refresh
 * them (so an ordinary test run leaves the checkout as it was).
 */
const SCREENSHOTS = join(
  ROOT,
  process.env.STRATREG_UPDATE_SCREENSHOTS === "1" ? "docs/console" : "test-results/console",
);
/** Debian's package; CHROMIUM_BIN names another. */
const CHROMIUM = process.env.CHROMIUM_BIN ?? "/usr/bin/chromium";
const CLUSTER = "stratreg"; // the shipped config's permissions name this cluster
const PARTITIONS = 8;
const passwords = { shard: "shardpw", trader: "traderpw", operator: "operatorpw", viewer: "viewerpw" };
const passwordEnv = {
  SHARD_PASSWORD: passwords.shard,
  TRADER_PASSWORD: passwords.trader,
  OPERATOR_PASSWORD: passwords.operator,
  VIEWER_PASSWORD: passwords.viewer,
};
const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 1);

let dir: string;
let server: NatsServerProcess;
let wsUrl: string;
const services: ServiceProcess[] = [];
let nc: NatsConnection;
let client: StratregClient;
let risk: RiskClient;
let web: ConsoleServer;
let browser: Browser;
const reportSeq = new Map<string, number>();
/** A small discovery run an operator starts, so the discovery view has something to show. */
let discoveryRun: Promise<RunProgress>;

function barsOf(series: BarSeries) {
  return Array.from({ length: series.length }, (_, i) => {
    const { spread, ...rest } = series.bar(i);
    return spread === undefined || !Number.isFinite(spread) ? rest : { ...rest, spread };
  });
}

function service(entry: string, name: string, env: Record<string, string>): ServiceProcess {
  const proc = spawnService({
    entry,
    name,
    env: {
      NATS_URL: server.url,
      NATS_USER: "shard",
      NATS_PASSWORD: passwords.shard,
      STRATREG_CLUSTER: CLUSTER,
      LOG_LEVEL: "info",
      ...env,
    },
  });
  services.push(proc);
  return proc;
}

/** Reports `days` daily returns around `mean` for `id`, continuing its report numbers and dates. */
async function report(id: string, mean: number, days = 30, regime = "calm"): Promise<void> {
  const seq = (reportSeq.get(id) ?? 0) + 1;
  reportSeq.set(id, seq);
  const offset = (seq - 1) * days;
  // Each strategy its own rhythm, so their returns correlate by degrees (the heatmap has something to show).
  const code = [...id].reduce((n, c) => n + c.charCodeAt(0), 0);
  const returns = Array.from({ length: days }, (_, i) => mean + 0.01 * Math.sin(i * (0.9 + (code % 7) * 0.35) + code));
  const times = returns.map((_, i) => START + (offset + i + 1) * DAY);
  const result = await client.report([{ id, seq, regime, times, returns }]);
  expect(result.accepted).toBe(1);
}

async function openConsole(user: "viewer" | "operator", view = "topk"): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("dialog", (dialog) => void dialog.accept());
  await page.goto(`${web.url}#/${view}`);
  await page.fill("input[name=user]", user);
  await page.fill("input[name=password]", passwords[user]);
  await page.click("#login button[type=submit]");
  await page.waitForSelector("header .who");
  return page;
}

async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: the console test drives Debian's chromium package. Install it with \`apt-get install -y chromium\` (or set CHROMIUM_BIN)`,
    );
  }
  // The page is bundled by `npm run build`; bundling again here (well under a second) keeps
  // `npx vitest run test/console.test.ts` right after a change to the console's sources.
  const bundled = spawnSync(process.execPath, [join(ROOT, "apps/console/build.mjs")], { encoding: "utf8" });
  expect(bundled.status, bundled.stderr).toBe(0);

  dir = await mkdtemp(join(tmpdir(), "stratreg-console-"));
  // The shipped config, minus its fixed store dir and WebSocket port (tests use free ports).
  const shipped = await readFile(CONFIG, "utf8");
  const wsPort = await freePort();
  const config = testNatsConfig(shipped, wsPort);
  const configFile = join(dir, "nats-server.conf");
  await writeFile(configFile, config);
  server = await startNatsServer({ configFile, env: { ...process.env, ...passwordEnv } });
  wsUrl = `ws://127.0.0.1:${wsPort}`;

  for (const member of ["console-shard-1", "console-shard-2"]) {
    service(SHARD_ENTRY, member, {
      ...FAST_MEMBERSHIP,
      STRATREG_MEMBER_ID: member,
      STRATREG_PARTITIONS: String(PARTITIONS),
    });
  }
  nc = await connect({ servers: server.url, user: "shard", pass: passwords.shard });
  await waitForServing(nc, CLUSTER, PARTITIONS, ["console-shard-1", "console-shard-2"]);
  client = await StratregClient.connect(nc, { cluster: CLUSTER, timeoutMs: 15_000 });
  service(RANKER_ENTRY, "console-ranker", { STRATREG_RANKER_ID: "console-ranker" });
  service(GUARD_ENTRY, "console-guard", {
    STRATREG_RISK_GUARD_ID: "console-guard",
    STRATREG_RISK_LEASE_MS: "1000",
    // Correlation and VaR every half second rather than every 10 s, for the risk view's screenshot.
    STRATREG_RISK_INTERVAL_MS: "500",
  });
  service(GRAPH_ENTRY, "console-graph", { STRATREG_GRAPH_ID: "console-graph", STRATREG_GRAPH_LEASE_MS: "1000" });
  service(join(ROOT, "services/search/dist/main.js"), "console-search", { STRATREG_SEARCH_ID: "console-search" });
  service(join(ROOT, "services/discovery/dist/main.js"), "console-discovery", {
    STRATREG_DISCOVERY_ID: "console-discovery",
  });

  const families = ["momentum", "reversion", "carry"];
  await client.registerMany(
    Array.from({ length: 12 }, (_, i) => ({
      id: `s-${String(i).padStart(2, "0")}`,
      name: `Strategy ${i}`,
      owner: "desk-1",
      family: families[i % 3] as string,
      tags: ["console"],
    })),
  );
  for (let i = 0; i < 12; i++) await report(`s-${String(i).padStart(2, "0")}`, 0.0005 + i * 0.0001);
  risk = new RiskClient(nc, { cluster: CLUSTER, timeoutMs: 15_000 });
  await waitFor(async () => (await risk.state().catch(() => undefined))?.state === TradingStates.Active, {
    timeoutMs: 30_000,
    message: "no risk guard answered",
  });
  // Limits are a control message: operators only.
  const operator = await connect({ servers: server.url, user: "operator", pass: passwords.operator });
  await new RiskClient(operator, { cluster: CLUSTER, timeoutMs: 15_000 }).setLimits({
    limits: { total: { gross: 2_000_000, net: 1_000_000 }, symbols: { "*": { gross: 500_000 } } },
    by: "test",
    note: "console screenshots",
  });

  // Bars in, then a short run (operators only), followed to its end in the background.
  const discovery = new DiscoveryClient(nc, { cluster: CLUSTER, timeoutMs: 30_000 });
  const market = generateMarket({ seed: 11, symbols: 3, bars: 1200, planted: 2, sharpe: [3, 4] });
  for (const series of market.series) await discovery.importSeries(barsOf(series));
  const operatorDiscovery = new DiscoveryClient(operator, { cluster: CLUSTER, timeoutMs: 30_000 });
  let ended: (p: RunProgress) => void = () => undefined;
  discoveryRun = new Promise<RunProgress>((resolve) => {
    ended = resolve;
  });
  let runId: string | undefined;
  const seen: RunProgress[] = [];
  const follower = discovery.followProgress((p) => {
    seen.push(p);
    if (p.runId === runId && p.outcome !== undefined) ended(p);
  });
  await follower.ready;
  await waitFor(
    async () => {
      const started = await operatorDiscovery
        .run({ budgetMs: 8000, population: 60, generations: 4, seed: 7 })
        .catch(() => undefined);
      runId = started?.runId;
      return started;
    },
    { timeoutMs: 30_000, message: "discovery did not take a run" },
  );
  const early = seen.find((p) => p.runId === runId && p.outcome !== undefined);
  if (early !== undefined) ended(early);
  void discoveryRun.then(async () => {
    follower.stop();
    await operator.close();
  });
  let order = 0;
  for (const [strategy, symbol, quantity] of [
    ["s-11", "AAPL", 3000],
    ["s-10", "MSFT", 1500],
    ["s-09", "AAPL", 800],
  ] as const) {
    const orderId = `o-${++order}`;
    const check = await risk.check({ orderId, strategy, venue: "xnys", symbol, side: "buy", quantity, price: 100 });
    expect(check.allowed).toBe(true);
    await risk.fill({ orderId, fillId: `f-${order}`, quantity, price: 100 });
  }

  web = await startConsoleServer({ port: 0, natsWsUrl: wsUrl, cluster: CLUSTER });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  await mkdir(SCREENSHOTS, { recursive: true });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await web?.close();
  await nc?.close().catch(() => undefined);
  await Promise.all(services.map((s) => s.kill("SIGKILL").catch(() => undefined)));
  await server?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe("the operator console", () => {
  it("loads against the running system and shows every view, live", async () => {
    const page = await openConsole("viewer");
    // The best by Sharpe is the strategy with the highest mean return.
    await page.waitForSelector('#view-topk tr[data-id="s-11"]', { timeout: 20_000 });
    await page.waitForSelector("#view-topk svg.spark path", { timeout: 20_000 });
    expect(await page.textContent("header .who")).toContain("viewer");
    await shoot(page, "topk");

    await page.goto(`${web.url}#/risk`);
    await page.waitForSelector("#view-risk .bar-row", { timeout: 20_000 });
    await page.waitForSelector("#trading-state strong:has-text('ACTIVE')");
    await page.waitForSelector("#view-risk .heatmap .hm-cell", { timeout: 20_000 });
    await page.waitForSelector("#view-risk table.var", { timeout: 20_000 });
    await shoot(page, "risk");

    await page.goto(`${web.url}#/cluster`);
    await page.waitForSelector('#view-cluster tr[data-member="console-shard-2"]', { timeout: 20_000 });
    await page.click('#view-cluster tr[data-member="console-shard-1"] button.link');
    await page.waitForSelector("#view-cluster table.partitions tbody tr");
    await shoot(page, "cluster");

    await page.goto(`${web.url}#/strategy/s-11`);
    await page.waitForSelector("#view-strategy table.gates", { timeout: 20_000 });
    await page.waitForSelector("#view-strategy dl.meta");
    await page.waitForSelector("#view-strategy .chart canvas", { timeout: 20_000 });
    await shoot(page, "strategy");
    // Discovery: the operator's run, ended, in "Latest runs"; a candidate's report opened if one passed.
    const run = await discoveryRun;
    await page.goto(`${web.url}#/discovery`);
    await page.waitForSelector(`#view-discovery .run[data-run="${run.runId}"]`, { timeout: 20_000 });
    expect(await page.$("#view-discovery .error")).toBeNull();
    const candidate = await page.$("#view-discovery table.candidates tbody tr.clickable");
    if (candidate !== null) {
      await candidate.click();
      await page.waitForSelector("#view-discovery table.report");
    }
    await shoot(page, "discovery");
    await page.close();
  });

  it("moves a strategy into the top-k view when its reports make it lead, and narrows the list to a scope as it is typed", async () => {
    const page = await openConsole("viewer");
    await page.waitForSelector('#view-topk tr[data-id="s-11"]', { timeout: 20_000 });
    await client.register({ id: "s-new", name: "Newcomer", owner: "desk-2", family: "momentum" });
    const sent = Date.now();
    await report("s-new", 0.004);
    await page.waitForFunction(
      'document.querySelector("#view-topk tbody tr")?.getAttribute("data-id") === "s-new"',
      undefined,
      {
        timeout: 20_000,
      },
    );
    // Shown within a few polls of the ranker's tick, not on a reload.
    expect(Date.now() - sent).toBeLessThan(15_000);

    // A scope narrows the list as it is typed: only that family's strategies remain.
    await page.fill("input[name=family]", "reversion");
    await page.waitForFunction(
      `[...document.querySelectorAll("#view-topk tbody tr td:nth-child(4)")].map((td) => td.textContent).join() === "reversion,reversion,reversion,reversion"`,
      undefined,
      { timeout: 10_000 },
    );
    await page.close();
  });

  it("lets an operator halt: the risk guard is HALTED and the page shows it, then resume", async () => {
    const page = await openConsole("operator", "risk");
    await page.waitForSelector("#trading-state strong:has-text('ACTIVE')", { timeout: 20_000 });
    expect(await page.isDisabled("#halt")).toBe(false);
    await page.fill("#halt-reason", "console test: venue outage");
    await page.click("#halt");
    await page.waitForSelector("#trading-state strong:has-text('HALTED')", { timeout: 10_000 });
    await page.waitForSelector("#header-state:has-text('HALTED')");
    const status = await risk.state();
    expect(status).toMatchObject({ state: TradingStates.Halted, by: "operator", reason: "console test: venue outage" });
    await shoot(page, "risk-halted");

    await page.click("#resume");
    await page.waitForSelector("#trading-state strong:has-text('ACTIVE')", { timeout: 10_000 });
    expect((await risk.state()).state).toBe(TradingStates.Active);
    await page.close();
  });

  it("refuses a viewer's halt at NATS: the controls are disabled, a forced one is refused, and nothing changes", async () => {
    const page = await openConsole("viewer", "risk");
    await page.waitForSelector("#trading-state strong:has-text('ACTIVE')", { timeout: 20_000 });
    const before = await risk.state();
    expect(await page.isDisabled("#halt")).toBe(true);
    expect(await page.isDisabled("#resume")).toBe(true);

    // Enable the button the page disabled and press it: nats-server, not the page, refuses.
    // (Page code is written as strings: the tests are type-checked without the DOM's types.)
    await page.evaluate(
      'for (const el of document.querySelectorAll("#halt, #halt-reason")) el.removeAttribute("disabled")',
    );
    await page.fill("#halt-reason", "a viewer tries");
    await page.click("#halt");
    const refusal = await page.waitForSelector('#trading-controls .error[data-code="PERMISSION_DENIED"]', {
      timeout: 10_000,
    });
    expect(await refusal.textContent()).toContain("refused by NATS");

    // The page's own connection, sending the halt directly: refused the same way.
    const subject = JSON.stringify(clusterSubjects(CLUSTER).riskControl("halt"));
    const direct = await page.evaluate(`window.stratregConsole.conn
      .request(${subject}, { by: "viewer", reason: "direct" }, 3000, "viewer-halt-1")
      .then(() => "sent", (err) => err.code ?? String(err))`);
    expect(direct).toBe("PERMISSION_DENIED");

    const after = await risk.state();
    expect(after.state).toBe(TradingStates.Active);
    expect(after.version).toBe(before.version);
    await shoot(page, "risk-viewer-refused");
    await page.close();
  });
});
