/**
 * Joins the two halves of `npm run coverage` into one istanbul coverage object per source file
 * (docs/adr/006-coverage.md).
 *
 * The frame is the build: every `dist/**.js` converted by ast-v8-to-istanbul (what
 * @vitest/coverage-v8 uses, on vitest's own parser) and mapped through tsc's `.js.map`, which maps
 * every token exactly. Those items — statements, branches, functions — are what is counted, each
 * once. The spawned programs ran exactly this code, so their V8 counts land on it directly.
 *
 * vitest's result describes the same sources from two transforms: a sibling's `dist/` imported by a
 * test (the frame's own items) and TypeScript run through vite, whose maps are coarser (ends often
 * without a column, arrow functions placed a few columns off). Each of its items adds its hits to
 * the frame's item at the same start, or failing that, to the nearest one of the same kind that
 * starts on the same line (a function: spans the same lines). Items placed nowhere are counted and
 * reported, not added: adding them would count a statement twice.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { mergeProcessCovs } from "@bcoe/v8-coverage";
import { convert } from "ast-v8-to-istanbul";
import { parseAstAsync } from "vitest/node";

/**
 * The frame with the spawned programs' counts: `{ data, processes, flushedAtExit }`, `data` keyed
 * by source path. `distDirs` are the build directories; `processFiles` the preload's JSON files.
 */
export async function spawnedCoverage(distDirs, processFiles) {
  const processes = processFiles.map(readJson).filter((data) => data !== undefined);
  const ran = new Map();
  if (processes.length > 0)
    for (const script of mergeProcessCovs(processes).result) ran.set(script.url, script.functions);

  const data = {};
  for (const dir of distDirs) {
    for (const name of readdirSync(dir, { recursive: true })) {
      if (!name.endsWith(".js")) continue;
      const path = join(dir, name);
      const url = pathToFileURL(path).href;
      const code = readFileSync(path, "utf8");
      const sourceMap = readJson(`${path}.map`);
      if (sourceMap === undefined) continue;
      const mapUrl = `${url}.map`;
      sourceMap.sources = sourceMap.sources.map(
        (source) => new URL(`${sourceMap.sourceRoot ?? ""}${source}`, mapUrl).href,
      );
      sourceMap.sourceRoot = undefined;
      // Code no spawned program loaded: one uncalled range over the whole file gives every item, unhit.
      const functions = ran.get(url) ?? [
        { functionName: "", isBlockCoverage: true, ranges: [{ startOffset: 0, endOffset: code.length, count: 0 }] },
      ];
      const converted = await convert({ code, sourceMap, ast: parseAstAsync(code), coverage: { url, functions } });
      // A dist file whose source is gone (tsc -b leaves old output behind) describes nothing.
      for (const [source, file] of Object.entries(converted)) if (existsSync(source)) data[source] = file;
    }
  }
  const flushedAtExit = processes.filter((process) => process.stratreg?.final === true).length;
  return { data, processes: processes.length, flushedAtExit };
}

/**
 * Adds vitest's counts (`inProcess`, coverage-final.json) onto `frame` (from {@link spawnedCoverage})
 * in place. A file the frame lacks is taken as vitest has it. Returns how many of vitest's items
 * found no place, and how many of those had been hit.
 */
export function addInProcess(frame, inProcess) {
  let unplaced = 0;
  let unplacedHit = 0;
  for (const [path, file] of Object.entries(inProcess)) {
    const target = frame[path];
    if (target === undefined) {
      frame[path] = file;
      continue;
    }
    for (const kind of KINDS) {
      const finder = placer(kind, target[kind.map]);
      for (const [id, item] of Object.entries(file[kind.map])) {
        const hits = file[kind.hits][id];
        const place = finder(item);
        if (place === undefined) {
          unplaced++;
          if ((Array.isArray(hits) ? Math.max(0, ...hits) : hits) > 0) unplacedHit++;
        } else if (Array.isArray(hits)) {
          target[kind.hits][place] = target[kind.hits][place].map((n, i) => n + (hits[i] ?? 0));
        } else {
          target[kind.hits][place] += hits;
        }
      }
    }
  }
  return { unplaced, unplacedHit };
}

/**
 * Per kind of item: where it is exactly (`key`), which frame items could be it when that fails
 * (`near`: same kind, same line), and how far apart two such are (`distance`).
 */
const KINDS = [
  {
    map: "statementMap",
    hits: "s",
    key: (st) => at(st.start),
    near: (st) => `${st.start.line}`,
    distance: (a, b) => Math.abs(a.start.column - b.start.column),
  },
  {
    map: "fnMap",
    hits: "f",
    key: (fn) => at(fn.decl.start),
    near: (fn) => `${fn.loc.start.line}-${fn.loc.end.line}`,
    distance: (a, b) => Math.abs(a.loc.start.column - b.loc.start.column),
  },
  {
    map: "branchMap",
    hits: "b",
    key: (br) => `${br.type}@${at(br.loc.start)}/${br.locations.length}`,
    near: (br) => `${br.type}@${br.loc.start.line}/${br.locations.length}`,
    distance: (a, b) => Math.abs(a.loc.start.column - b.loc.start.column),
  },
];

function placer(kind, items) {
  const exact = new Map();
  const sameLine = new Map();
  for (const [id, item] of Object.entries(items)) {
    exact.set(kind.key(item), id);
    const near = kind.near(item);
    sameLine.set(near, [...(sameLine.get(near) ?? []), id]);
  }
  return (item) => {
    const id = exact.get(kind.key(item));
    if (id !== undefined) return id;
    let best;
    for (const candidate of sameLine.get(kind.near(item)) ?? []) {
      if (best === undefined || kind.distance(items[candidate], item) < kind.distance(items[best], item))
        best = candidate;
    }
    return best;
  };
}

function at(position) {
  return `${position.line}:${position.column}`;
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
}
