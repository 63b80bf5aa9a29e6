/** An error as the page shows it: its stable code first, then the sentence. */
import type { ConsoleError } from "./nats.js";

export function ErrorLine({ error }: { error: ConsoleError | undefined }) {
  if (error === undefined) return null;
  return (
    <p class="error" data-code={error.code}>
      <code>{error.code}</code> {error.message}
    </p>
  );
}
