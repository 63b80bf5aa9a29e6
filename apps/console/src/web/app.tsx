/**
 * The page: the login, then a header (who is logged in, the trading state) and one
 * view at a time chosen by the URL's hash, so a view can be linked to.
 */
import { type ClusterConfig, clusterSubjects, DEFAULT_CLUSTER } from "@stratreg/protocol/web";
import { useEffect, useMemo, useState } from "preact/hooks";
import { Console, type ConsoleContext } from "./context.js";
import { ErrorLine } from "./errors.js";
import { LoginForm } from "./login.js";
import { ConsoleConnection, type ConsoleError, type Login, toConsoleError } from "./nats.js";
import { useTradingState } from "./trading.js";
import { ClusterView } from "./views/cluster.js";
import { DiscoveryView } from "./views/discovery.js";
import { RiskView } from "./views/risk.js";
import { StrategyView } from "./views/strategy.js";
import { TopKView } from "./views/topk.js";

/** What the server that serves the page says about where NATS is (never a credential). */
export interface PageConfig {
  natsWsUrl: string;
  cluster: string;
}

/** The user whose permissions allow no control message; the page greys controls out for it. */
const VIEWER_USER = "viewer";

const VIEWS = [
  ["topk", "Top-k"],
  ["risk", "Risk"],
  ["cluster", "Cluster"],
  ["discovery", "Discovery"],
] as const;

declare global {
  interface Window {
    /** The page's own connection, for tests and a curious operator's devtools. */
    stratregConsole?: { conn: ConsoleConnection; context: ConsoleContext };
  }
}

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return hash;
}

function Header({ ctx, route }: { ctx: ConsoleContext; route: string }) {
  const { status } = useTradingState();
  return (
    <header>
      <h1>stratreg</h1>
      <nav>
        {VIEWS.map(([key, label]) => (
          <a key={key} href={`#/${key}`} class={route === key ? "active" : ""}>
            {label}
          </a>
        ))}
      </nav>
      <span id="header-state" class={`state state-${status?.state ?? "unknown"}`}>
        {status?.state ?? "…"}
      </span>
      <span class="who">
        {ctx.conn.user || "anonymous"} @ {ctx.subjects.cluster}
        {ctx.canControl ? "" : " (read only)"}
      </span>
    </header>
  );
}

function LoggedIn({ ctx }: { ctx: ConsoleContext }) {
  const hash = useHash();
  const [, route = "topk", ...rest] = hash.split("/");
  return (
    <Console.Provider value={ctx}>
      <Header ctx={ctx} route={route} />
      <main>
        {route === "risk" ? (
          <RiskView />
        ) : route === "cluster" ? (
          <ClusterView />
        ) : route === "discovery" ? (
          <DiscoveryView />
        ) : route === "strategy" && rest.length > 0 ? (
          <StrategyView id={decodeURIComponent(rest.join("/"))} />
        ) : (
          <TopKView />
        )}
      </main>
    </Console.Provider>
  );
}

export function App({ config }: { config: PageConfig }) {
  const [ctx, setCtx] = useState<ConsoleContext | undefined>(undefined);
  const [error, setError] = useState<ConsoleError | undefined>(undefined);
  const subjects = useMemo(() => clusterSubjects(config.cluster || DEFAULT_CLUSTER), [config.cluster]);

  const login = async (l: Login) => {
    setError(undefined);
    try {
      const conn = await ConsoleConnection.open(l);
      const info = await conn.request<ClusterConfig>(subjects.clusterInfo, {}).catch(async (err) => {
        await conn.close();
        throw err;
      });
      const context: ConsoleContext = {
        conn,
        subjects,
        partitions: info.partitions,
        canControl: l.user !== VIEWER_USER,
        openStrategy: (id) => {
          location.hash = `#/strategy/${encodeURIComponent(id)}`;
        },
      };
      window.stratregConsole = { conn, context };
      void conn.nc.closed().then(() => setCtx(undefined));
      setCtx(context);
    } catch (err) {
      setError(toConsoleError(err, subjects.clusterInfo));
    }
  };

  if (ctx === undefined) return <LoginForm defaultUrl={config.natsWsUrl} error={error} onLogin={login} />;
  return (
    <>
      <LoggedIn ctx={ctx} />
      <ErrorLine error={error} />
    </>
  );
}
