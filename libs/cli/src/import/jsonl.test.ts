import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { type Chunk, parseLine, readChunks } from "./jsonl.js";

async function chunksOf(text: string, size: number): Promise<Chunk[]> {
  const out: Chunk[] = [];
  for await (const chunk of readChunks(Readable.from([text]), size)) out.push(chunk);
  return out;
}

describe("JSON lines reader", () => {
  it("numbers lines, skips blank ones and reports lines that are not strategies", async () => {
    const text = ['{"id":"a","name":"A","owner":"o"}', "", "{oops", "[1]", '{"name":"no id"}', '{"id":"b"}'].join("\n");
    const [chunk, ...rest] = await chunksOf(text, 100);
    expect(rest).toEqual([]);
    expect(chunk?.strategies.map((s) => [s.line, s.strategy.id])).toEqual([
      [1, "a"],
      [6, "b"],
    ]);
    expect(chunk?.invalid.map((p) => [p.line, p.code])).toEqual([
      [3, "BAD_JSON"],
      [4, "NOT_A_STRATEGY"],
      [5, "NOT_A_STRATEGY"],
    ]);
    expect(chunk?.bytes).toBe(Buffer.byteLength(text) + 1);
  });

  it("splits into chunks of the asked number of lines, CRLF and BOM included", async () => {
    const text = `\ufeff${Array.from({ length: 5 }, (_, i) => `{"id":"s${i}"}`).join("\r\n")}\r\n`;
    const chunks = await chunksOf(text, 2);
    expect(chunks.map((c) => c.strategies.map((s) => s.line))).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunks.map((c) => c.lastLine)).toEqual([2, 4, 5]);
  });

  it("parses one line", () => {
    expect(parseLine("   ", 1)).toBeUndefined();
    expect(parseLine('{"id":"x"}', 7)).toEqual({ line: 7, strategy: { id: "x" } });
  });
});
