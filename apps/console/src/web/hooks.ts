/**
 * Live data for the views: subscriptions to what services publish, and where only
 * request/reply exists, a poll at a modest interval (its cost is in the README's figures).
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { useConsole } from "./context.js";
import { ConsoleError, toConsoleError } from "./nats.js";

/** The latest value of a poll, the error of its latest failure (cleared by a success), and when it last answered. */
export interface Polled<T> {
  value: T | undefined;
  error: ConsoleError | undefined;
  at: number | undefined;
}

/**
 * Calls `load` now and every `intervalMs` (never two at once) while the view is shown;
 * `deps` restart it. A tab in the background polls nothing (the browser's timers slow down anyway).
 */
export function usePoll<T>(load: () => Promise<T>, intervalMs: number, deps: unknown[]): Polled<T> {
  const [state, setState] = useState<Polled<T>>({ value: undefined, error: undefined, at: undefined });
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      if (!document.hidden) {
        try {
          const value = await load();
          if (!stopped) setState({ value, error: undefined, at: Date.now() });
        } catch (err) {
          const error = err instanceof ConsoleError ? err : toConsoleError(err, "poll");
          if (!stopped) setState((s) => ({ ...s, error }));
        }
      }
      if (!stopped) timer = setTimeout(tick, intervalMs);
    };
    void tick();
    return () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    };
    // The caller names what restarts the poll (`load` is a new closure on every render).
  }, deps);
  return state;
}

/** The latest message on `subject` (decoded), or undefined before the first. */
export function useFollow<T>(subject: string, onMessage?: (value: T) => void): T | undefined {
  const { conn } = useConsole();
  const [latest, setLatest] = useState<T | undefined>(undefined);
  const callback = useRef(onMessage);
  callback.current = onMessage;
  useEffect(
    () =>
      conn.follow<T>(subject, (value) => {
        setLatest(value);
        callback.current?.(value);
      }),
    [conn, subject],
  );
  return latest;
}
