/** Lifecycle helpers of the cross-service tests; the evidence itself comes from the test kit. */
import type { LifecycleContext } from "@stratreg/protocol";

export { goodEvidence, normalReturns, weakEvidence } from "@stratreg/testkit";

/** A strategy's lifecycle context (empty for one stored before it had one). */
export function contextOf(strategy: { lifecycle?: { context: Record<string, unknown> } }): LifecycleContext {
  return (strategy.lifecycle?.context ?? {}) as LifecycleContext;
}
