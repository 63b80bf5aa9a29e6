/**
 * Bundles the console for the browser with esbuild: src/web/main.tsx (Preact, uPlot, the
 * NATS client's WebSocket transport, msgpackr, @stratreg/protocol's browser entry) into
 * dist/web/app.js, uPlot's stylesheet and ours into app.css, and copies index.html.
 * `node apps/console/build.mjs` runs it; the root `npm run build` does after `tsc -b`.
 */
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
/** Where the built page goes: what the launcher and the console container serve. */
export const WEB_DIR = join(here, "dist", "page");

/** Builds the page into {@link WEB_DIR}; returns the bytes of each file written. */
export async function bundleConsole() {
  await mkdir(WEB_DIR, { recursive: true });
  await build({
    entryPoints: [join(here, "src", "web", "main.tsx")],
    outfile: join(WEB_DIR, "app.js"),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: ["es2022"],
    minify: true,
    sourcemap: "linked",
    jsx: "automatic",
    jsxImportSource: "preact",
    tsconfig: join(here, "tsconfig.json"),
    legalComments: "none",
    logLevel: "warning",
  });
  const require = createRequire(import.meta.url);
  const uplotCss = await readFile(require.resolve("uplot/dist/uPlot.min.css"), "utf8");
  const ours = await readFile(join(here, "static", "console.css"), "utf8");
  await writeFile(join(WEB_DIR, "app.css"), `${uplotCss}\n${ours}`);
  await copyFile(join(here, "static", "index.html"), join(WEB_DIR, "index.html"));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await bundleConsole();
}
