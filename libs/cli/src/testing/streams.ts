/** A stand-in for stderr in tests of what the CLI draws there. */
import { Writable } from "node:stream";

/** A stream that keeps what is written; a terminal when `tty`. */
export function capture(tty: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  }) as unknown as NodeJS.WriteStream;
  Object.assign(stream, {
    isTTY: tty,
    columns: 160,
    cursorTo: (_x: number, _y?: unknown, cb?: () => void) => (typeof cb === "function" ? cb() : true),
    clearLine: (_dir: number, cb?: () => void) => (typeof cb === "function" ? cb() : true),
    moveCursor: (_dx: number, _dy: number, cb?: () => void) => (typeof cb === "function" ? cb() : true),
  });
  return { stream, text: () => chunks.join("") };
}
