/** In-process decode of one 1000-strategy batch as msgpack maps and as msgpackr records. */
import { performance } from "node:perf_hooks";
import { sampleStrategies } from "@stratreg/launcher";
import { decode, encode, encodeRecords } from "@stratreg/protocol";

function rate(payload: Uint8Array, count: number): number {
  for (let i = 0; i < 30; i++) decode(payload);
  const rounds = 200;
  const began = performance.now();
  for (let i = 0; i < rounds; i++) decode(payload);
  return (rounds * count) / ((performance.now() - began) / 1000);
}

export function decodeComparison(): { mapsPerSecond: number; recordsPerSecond: number } {
  const strategies = sampleStrategies(1000, "decode");
  const envelope = { v: 1, body: { strategies } };
  return { mapsPerSecond: rate(encode(envelope), 1000), recordsPerSecond: rate(encodeRecords(envelope), 1000) };
}
