/** The refusal a call met, for tests that check a service's error code and fields. */
import { StratregError } from "@stratreg/protocol";

/** The StratregError `work` was refused with; throws when it succeeded or failed any other way. */
export async function refusal(work: Promise<unknown>): Promise<StratregError> {
  const outcome = await work.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (outcome instanceof StratregError) return outcome;
  throw new Error(`expected a refusal with a stable code, got ${outcome === undefined ? "success" : String(outcome)}`, {
    cause: outcome,
  });
}
