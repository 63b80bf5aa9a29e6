/**
 * Entry of the bundle: reads where NATS is from the server that served the page
 * (`config.json`; `?nats=` and `?cluster=` override it) and renders the console.
 */
import { render } from "preact";
import { App, type PageConfig } from "./app.js";

async function pageConfig(): Promise<PageConfig> {
  const fallback: PageConfig = { natsWsUrl: `ws://${location.hostname || "127.0.0.1"}:8080`, cluster: "stratreg" };
  let served: Partial<PageConfig> = {};
  try {
    const res = await fetch("config.json", { cache: "no-store" });
    if (res.ok) served = (await res.json()) as Partial<PageConfig>;
  } catch {
    // Opened from a plain file or a server that has no config: the defaults and the query decide.
  }
  const query = new URLSearchParams(location.search);
  return {
    natsWsUrl: query.get("nats") ?? served.natsWsUrl ?? fallback.natsWsUrl,
    cluster: query.get("cluster") ?? served.cluster ?? fallback.cluster,
  };
}

const root = document.getElementById("app");
if (root !== null) {
  void pageConfig().then((config) => {
    // Preact renders beside what is there: the "Loading…" line goes first.
    root.replaceChildren();
    render(<App config={config} />, root);
  });
}
