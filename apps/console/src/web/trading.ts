/**
 * The trading state as the page holds it: asked once (`risk.state`), then followed on the
 * guard's broadcast (every change, and once a second). The console does not acknowledge
 * the broadcast: it is a watcher, not a follower the guard waits for.
 */
import { RiskOps, type TradingStatus } from "@stratreg/protocol/web";
import { useEffect, useState } from "preact/hooks";
import { useConsole } from "./context.js";
import type { ConsoleError } from "./nats.js";

export function useTradingState(): { status: TradingStatus | undefined; error: ConsoleError | undefined } {
  const ctx = useConsole();
  const [status, setStatus] = useState<TradingStatus | undefined>(undefined);
  const [error, setError] = useState<ConsoleError | undefined>(undefined);
  useEffect(() => {
    const keep = (next: TradingStatus) =>
      setStatus((held) => (held !== undefined && held.version > next.version ? held : next));
    const stop = ctx.conn.follow<TradingStatus>(ctx.subjects.tradingState, keep, setError);
    ctx.conn.request<TradingStatus>(ctx.subjects.risk(RiskOps.State), {}).then(keep, setError);
    return stop;
  }, [ctx.conn]);
  return { status, error };
}
