/** Strategy templates for tests. */
import type { TemplateInput } from "@stratreg/protocol";

/** A mean-reversion pattern: a lookback, an entry threshold, a side, a stop-loss and a take-profit. */
export const MEAN_REVERSION: TemplateInput = {
  id: "mean-reversion",
  name: "Mean reversion",
  family: "reversion",
  tags: ["fx"],
  params: {
    lookback: { type: "integer", min: 5, max: 250, default: 20, description: "bars in the mean" },
    threshold: { type: "number", min: 0.5, max: 5, default: 2 },
    side: { type: "string", enum: ["long", "short", "both"], default: "both" },
    venue: { type: "string", required: true },
    hedged: { type: "boolean", default: false },
    stopLoss: { type: "number", min: 0.001, max: 0.2, risk: true },
    takeProfit: { type: "number", min: 0.001, max: 1, default: 0.05 },
  },
  rules: [
    { param: "stopLoss", op: "<", other: "takeProfit", message: "a stop-loss tighter than the take-profit" },
    { param: "lookback", op: ">=", value: 10, message: "short lookbacks overfit" },
  ],
};
