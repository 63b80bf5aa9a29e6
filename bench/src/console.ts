/**
 * The operator console's figures, in headless Chromium (Debian's, as the console test):
 * how long after a report's acknowledgement the console's top-k shows its strategy (p50,
 * p99), what the page weighs (raw and gzip), and what 10 open consoles cost the system in
 * messages a second, from nats-server's /varz counters with and without them, while a
 * synthetic market streams reports in the background.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { gzipSync } from "node:zlib";
import { connect } from "@nats-io/transport-node";
import { StratregClient } from "@stratreg/client";
import { CONSOLE_WEB_DIR, startConsoleServer } from "@stratreg/console";
import { type NatsServerProcess, requireNatsServer, startNatsServer } from "@stratreg/natsd";
import { chromium, type Page } from "playwright-core";
import { settled, supervisor } from "./cluster.js";
import { fmt } from "./table.js";

const CLUSTER = "bench-console";
const CHROMIUM = process.env.CHROMIUM_BIN ?? "/usr/bin/chromium";
const PROBE_FAMILY = "console-probe";
const BACKGROUND = 200;
const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 1);

/** What the console bench measured. */
export interface ConsoleFigures {
  trials: number;
  missed: number;
  /** Report acknowledged → the console's top-k shows its strategy (ms). */
  reportToShownP50Ms: number;
  reportToShownP99Ms: number;
  reportToShownMaxMs: number;
  /** The page's files: bytes as served, and gzipped. */
  pageBytes: number;
  pageGzipBytes: number;
  files: Record<string, { bytes: number; gzip: number }>;
  consoles: number;
  windowSeconds: number;
  /** nats-server's messages in and out per second, without and with the consoles open (noisy: the market and CPU contention move them). */
  baseline: { inPerSecond: number; outPerSecond: number; outBytesPerSecond: number };
  withConsoles: { inPerSecond: number; outPerSecond: number; outBytesPerSecond: number };
  /** The consoles' own connections (nats-server's /connz): what they publish and receive per second, all of them. */
  consolesSent: number;
  consolesReceived: number;
  consolesReceivedBytes: number;
  /**
   * Messages a second the consoles add to the server: each request they send is routed to a
   * service (one in, one out) and its reply back (one in, one out), and each broadcast they
   * watch is one more delivery.
   */
  addedIn: number;
  addedOut: number;
}

interface Connz {
  connections: Array<{ name?: string; in_msgs: number; out_msgs: number; out_bytes: number }>;
}

/** Sums the counters of the console connections (their names start with `stratreg-console`). */
async function consoleCounters(server: NatsServerProcess) {
  const connz = (await (await fetch(`${server.monitorUrl}/connz?limit=4096`)).json()) as Connz;
  let sent = 0;
  let received = 0;
  let receivedBytes = 0;
  for (const c of connz.connections) {
    if (!c.name?.startsWith("stratreg-console")) continue;
    // The server's in_msgs of a connection are what the client sent; out_msgs what it was sent.
    sent += c.in_msgs;
    received += c.out_msgs;
    receivedBytes += c.out_bytes;
  }
  return { sent, received, receivedBytes };
}

interface Varz {
  in_msgs: number;
  out_msgs: number;
  out_bytes: number;
}

const varz = async (server: NatsServerProcess): Promise<Varz> =>
  (await fetch(`${server.monitorUrl}/varz`)).json() as Promise<Varz>;

async function rates(server: NatsServerProcess, seconds: number) {
  const a = await varz(server);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const b = await varz(server);
  const s = (performance.now() - t0) / 1000;
  return {
    inPerSecond: (b.in_msgs - a.in_msgs) / s,
    outPerSecond: (b.out_msgs - a.out_msgs) / s,
    outBytesPerSecond: (b.out_bytes - a.out_bytes) / s,
  };
}

function percentile(values: number[], q: number): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/** The built page's weight (run `npm run build` first). */
export function pageWeight(): Pick<ConsoleFigures, "pageBytes" | "pageGzipBytes" | "files"> {
  const files: Record<string, { bytes: number; gzip: number }> = {};
  for (const name of ["index.html", "app.js", "app.css"]) {
    const bytes = readFileSync(join(CONSOLE_WEB_DIR, name));
    files[name] = { bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  }
  const sum = (k: "bytes" | "gzip") => Object.values(files).reduce((n, f) => n + f[k], 0);
  return { pageBytes: sum("bytes"), pageGzipBytes: sum("gzip"), files };
}

export async function consoleFigures(say: (line: string) => void, quick: boolean): Promise<ConsoleFigures> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium`);
  const trials = quick ? 10 : 30;
  const windowSeconds = quick ? 10 : 20;
  const consoles = 10;
  const server = await startNatsServer({ bin: requireNatsServer(), websocketPort: 0 });
  const services = supervisor({ url: server.url, storeDir: server.storeDir }, CLUSTER, say);
  const nc = await connect({ servers: server.url });
  const web = await startConsoleServer({ port: 0, natsWsUrl: server.wsUrl as string, cluster: CLUSTER });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"].concat([
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      // Ten tabs in one browser: none may be throttled as a background tab.
      "--disable-background-timer-throttling",
      "--disable-renderer-backgrounding",
      "--disable-backgrounding-occluded-windows",
    ]),
  });
  let running = true;
  let stream: Promise<void> = Promise.resolve();
  try {
    services.start("shard-1");
    services.start("shard-2");
    await settled(nc, CLUSTER, 2);
    say("console: 2 shards serve; starting a ranker and a risk guard");
    services.start("ranker-1", "ranker");
    services.start("risk-guard-1", "risk-guard");
    const client = await StratregClient.connect(nc, { cluster: CLUSTER, timeoutMs: 30_000 });
    const background = Array.from({ length: BACKGROUND }, (_, i) => `bg-${i}`);
    await client.registerMany(background.map((id) => ({ id, name: id, owner: "bench", family: "background" })));
    // The background market: every strategy one period every second, in slices every 100 ms.
    const seqs = new Map<string, number>();
    stream = (async () => {
      for (let tick = 0; running; tick++) {
        const slice = background.filter((_, i) => i % 10 === tick % 10);
        await client
          .report(
            slice.map((id) => {
              const seq = (seqs.get(id) ?? 0) + 1;
              seqs.set(id, seq);
              return { id, seq, times: [START + seq * DAY], returns: [0.001 * Math.sin(seq + id.length)] };
            }),
          )
          .catch(() => undefined);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await new Promise((r) => setTimeout(r, 3000));
    say(`console: measuring ${windowSeconds} s without consoles…`);
    const baseline = await rates(server, windowSeconds);

    const pages: Page[] = [];
    for (let i = 0; i < consoles; i++) {
      const page = await browser.newPage();
      await page.goto(`${web.url}#/topk`);
      await page.click("#login button[type=submit]");
      await page.waitForSelector("#view-topk");
      await page.fill("input[name=family]", PROBE_FAMILY);
      // The scope is in force once the list is empty: no probe has reported yet.
      await page.waitForSelector("#view-topk p.muted:has-text('No ranked strategy in this scope')", {
        timeout: 10_000,
      });
      pages.push(page);
    }
    await new Promise((r) => setTimeout(r, 5000));
    say(`console: measuring ${windowSeconds} s with ${consoles} consoles open…`);
    const before = await consoleCounters(server);
    const t0 = performance.now();
    const withConsoles = await rates(server, windowSeconds);
    const after = await consoleCounters(server);
    const seconds = (performance.now() - t0) / 1000;
    const consolesSent = (after.sent - before.sent) / seconds;
    const consolesReceived = (after.received - before.received) / seconds;
    const consolesReceivedBytes = (after.receivedBytes - before.receivedBytes) / seconds;

    say(`console: ${trials} reports, each timed until the first console's top-k shows its strategy…`);
    const watched = pages[0] as Page;
    const latencies: number[] = [];
    let missed = 0;
    for (let t = 0; t < trials; t++) {
      const id = `probe-${t}`;
      await client.register({ id, name: id, owner: "bench", family: PROBE_FAMILY });
      // Each probe's returns beat every earlier one's: it becomes the family's best by Sharpe.
      const returns = Array.from({ length: 20 }, (_, i) => 0.002 + t * 0.0005 + 0.001 * Math.sin(i));
      await client.report([{ id, seq: 1, times: returns.map((_, i) => START + (i + 1) * DAY), returns }]);
      const acked = Date.now();
      try {
        // Shown first, and its time recorded (an effect that runs just after the render).
        await watched.waitForFunction(
          `document.querySelector("#view-topk tbody tr")?.getAttribute("data-id") === ${JSON.stringify(id)} && window.stratregTopkShown?.has(${JSON.stringify(id)})`,
          undefined,
          { timeout: 10_000, polling: 50 },
        );
        const shown = (await watched.evaluate(`window.stratregTopkShown.get(${JSON.stringify(id)})`)) as number;
        latencies.push(shown - acked);
      } catch {
        missed++;
      }
    }
    return {
      trials,
      missed,
      reportToShownP50Ms: percentile(latencies, 0.5),
      reportToShownP99Ms: percentile(latencies, 0.99),
      reportToShownMaxMs: Math.max(0, ...latencies),
      ...pageWeight(),
      consoles,
      windowSeconds,
      baseline,
      withConsoles,
      consolesSent,
      consolesReceived,
      consolesReceivedBytes,
      // Requests: the console's publish in, delivered out to a service; the reply in, delivered out.
      // Broadcasts (the trading state, heartbeats): one more delivery out each.
      addedIn: consolesSent * 2,
      addedOut: consolesReceived + consolesSent,
    };
  } finally {
    running = false;
    await stream;
    await browser.close();
    await web.close();
    await nc.close().catch(() => undefined);
    await services.stopAll();
    await server.stop();
  }
}

/** The figures as a table. */
export function consoleTable(f: ConsoleFigures): string {
  const rows = [
    [
      "report acknowledged → shown in the console's top-k, p50 / p99 / max (ms)",
      `${fmt(f.reportToShownP50Ms)} / ${fmt(f.reportToShownP99Ms)} / ${fmt(f.reportToShownMaxMs)}`,
      `${f.trials} trials, ${f.missed} missed`,
    ],
    [
      "page weight: html + js + css, as served / gzip (bytes)",
      `${fmt(f.pageBytes)} / ${fmt(f.pageGzipBytes)}`,
      Object.entries(f.files)
        .map(([n, s]) => `${n} ${fmt(s.gzip)}`)
        .join(", "),
    ],
    [
      "nats-server messages in/s, out/s without consoles",
      `${fmt(f.baseline.inPerSecond)} / ${fmt(f.baseline.outPerSecond)}`,
      `${f.windowSeconds} s window`,
    ],
    [
      `the same with ${f.consoles} consoles on the top-k view`,
      `${fmt(f.withConsoles.inPerSecond)} / ${fmt(f.withConsoles.outPerSecond)}`,
      "noisy: the market and CPU contention move these",
    ],
    [
      `${f.consoles} consoles' own connections: sent / received (msgs/s)`,
      `${fmt(f.consolesSent, 1)} / ${fmt(f.consolesReceived, 1)}`,
      `${fmt(f.consolesReceivedBytes / 1024, 1)} KB/s received`,
    ],
    [
      `added to nats-server by ${f.consoles} consoles: in / out (msgs/s)`,
      `${fmt(f.addedIn, 1)} / ${fmt(f.addedOut, 1)}`,
      `${fmt(f.addedIn / f.consoles, 1)} / ${fmt(f.addedOut / f.consoles, 1)} per console`,
    ],
  ];
  return `${rows.map((r) => `| ${r.join(" | ")} |`).join("\n")}\n`;
}
