/**
 * The operators' controls: halt (with a reason, confirmed), resume, drain a shard.
 * A viewer sees them disabled. The page is not the boundary: nats-server refuses a
 * control message from any user without the right, and the page then says so.
 */
import { RiskControlOps, type TradingCommandReply, type TradingStatus } from "@stratreg/protocol/web";
import { useState } from "preact/hooks";
import { useConsole } from "../context.js";
import { ErrorLine } from "../errors.js";
import { ConsoleError, toConsoleError } from "../nats.js";

/** What the last control did, as one line. */
type Outcome = { ok: string } | { error: ConsoleError } | undefined;

function Result({ outcome }: { outcome: Outcome }) {
  if (outcome === undefined) return null;
  if ("ok" in outcome) return <p class="ok">{outcome.ok}</p>;
  return <ErrorLine error={outcome.error} />;
}

/** A command id a retry of the same click reuses; fresh for each click. */
function commandId(): string {
  return `console-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

/** Sends one trading command (halt, resume) to the active risk guard. */
export async function tradingCommand(
  ctx: ReturnType<typeof useConsole>,
  op: (typeof RiskControlOps)["Halt" | "Resume"],
  reason: string | undefined,
): Promise<TradingCommandReply> {
  const by = ctx.conn.user || "console";
  return ctx.conn.request<TradingCommandReply>(
    ctx.subjects.riskControl(op),
    { by, ...(reason ? { reason } : {}) },
    5000,
    commandId(),
  );
}

export function TradingControls({ status }: { status: TradingStatus | undefined }) {
  const ctx = useConsole();
  const [reason, setReason] = useState("");
  const [outcome, setOutcome] = useState<Outcome>(undefined);
  const [busy, setBusy] = useState(false);
  const disabled = !ctx.canControl || busy;

  const run = async (op: (typeof RiskControlOps)["Halt" | "Resume"]) => {
    setBusy(true);
    try {
      const reply = await tradingCommand(ctx, op, op === RiskControlOps.Halt ? reason : undefined);
      setOutcome({
        ok: reply.awaitingConfirmation
          ? `resume asked by ${reply.status.pendingResume?.by ?? ctx.conn.user}: waiting for a second operator`
          : `${reply.status.state}: acknowledged by ${reply.acks.length} services${reply.missing.length > 0 ? `, missing ${reply.missing.join(", ")}` : ""}`,
      });
    } catch (err) {
      setOutcome({ error: toConsoleError(err, ctx.subjects.riskControl(op)) });
    } finally {
      setBusy(false);
    }
  };

  const halt = () => {
    if (reason.trim() === "") {
      setOutcome({ error: new ConsoleError("MISSING_FIELD", "a halt needs a reason") });
      return;
    }
    if (!window.confirm(`Halt all trading?\n\nReason: ${reason}\n\nOnly an operator's resume undoes it.`)) return;
    void run(RiskControlOps.Halt);
  };

  return (
    <div class="controls" id="trading-controls">
      <h3>Controls {ctx.canControl ? "" : <span class="muted">(operators only)</span>}</h3>
      <label>
        reason{" "}
        <input
          id="halt-reason"
          value={reason}
          disabled={disabled}
          onInput={(e) => setReason((e.target as HTMLInputElement).value)}
        />
      </label>
      <button type="button" id="halt" class="danger" disabled={disabled} onClick={halt}>
        Halt trading
      </button>
      <button
        type="button"
        id="resume"
        disabled={disabled || status?.state === "ACTIVE"}
        onClick={() => {
          if (window.confirm("Resume trading?")) void run(RiskControlOps.Resume);
        }}
      >
        {status?.pendingResume ? `Confirm resume (asked by ${status.pendingResume.by})` : "Resume"}
      </button>
      <Result outcome={outcome} />
    </div>
  );
}

/** Asks one shard to hand its partitions to the others and exit (the CLI's `stratreg drain`). */
export function DrainButton({ member, onResult }: { member: string; onResult: (o: Outcome) => void }) {
  const ctx = useConsole();
  return (
    <button
      type="button"
      class="drain"
      disabled={!ctx.canControl}
      onClick={() => {
        if (!window.confirm(`Drain ${member}? It hands every partition to the others, then exits.`)) return;
        ctx.conn.request<{ partitions?: number }>(ctx.subjects.drain(member), {}, 5000).then(
          () => onResult({ ok: `${member} is draining` }),
          (err) => onResult({ error: toConsoleError(err, ctx.subjects.drain(member)) }),
        );
      }}
    >
      Drain
    </button>
  );
}

export { type Outcome, Result };
