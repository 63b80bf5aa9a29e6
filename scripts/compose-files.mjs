/**
 * Readers of the files the compose check looks at: the Dockerfile, .dockerignore, a nats-server
 * config, and compose's own value forms (environment, depends_on, volumes). Each takes text or a
 * parsed YAML value and returns plain data; none touches the disk.
 */
import { posix } from "node:path";

/**
 * @typedef {object} NatsConfig
 * @property {string[]} variables Variables the config takes from the environment.
 * @property {Map<string, string | undefined>} users User name -> the variable holding its password.
 * @property {number} port Client port.
 */

/** @returns {NatsConfig} */
export function parseNatsConfig(text) {
  const code = text.replace(/(["'])(?:(?!\1)[^\\\n]|\\.)*\1/g, '""').replace(/(#|\/\/).*$/gm, "");
  const defined = new Set([...code.matchAll(/^\s*([A-Za-z_][A-Za-z0-9_]*)\s*[:=]/gm)].map((m) => m[1]));
  const referenced = [...code.matchAll(/\$([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]);
  const variables = [...new Set(referenced.filter((name) => !defined.has(name)))];
  const users = new Map();
  for (const match of text.matchAll(/\buser\s*[:=]\s*"?([\w.@-]+)"?\s*,?\s*password\s*[:=]\s*(\$\w+|"[^"]*"|\S+)/g)) {
    users.set(match[1], match[2].startsWith("$") ? match[2].slice(1) : undefined);
  }
  const port = Number(/^\s*port\s*[:=]\s*(\d+)/m.exec(code)?.[1] ?? 4222);
  return { variables, users, port };
}

/**
 * The stages of a Dockerfile, with what matters here: WORKDIR, USER, CMD, ENTRYPOINT, COPY and RUN.
 * @returns {Array<{ name?: string, base: string, workdir: string, user?: string, cmd?: string[],
 *   entrypoint?: string[], steps: Array<{ type: "copy" | "run", workdir: string, from?: string,
 *   sources?: string[], dest?: string, command?: string }> }>}
 */
export function parseDockerfile(text) {
  const lines = text.replace(/\\\r?\n/g, " ").split(/\r?\n/);
  const stages = [];
  let stage;
  for (const raw of lines) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const [, keyword = "", rest = ""] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const instruction = keyword.toUpperCase();
    if (instruction === "FROM") {
      const [, image, name] = /^(?:--\S+\s+)*(\S+)(?:\s+as\s+(\S+))?/i.exec(rest) ?? [];
      const base = stages.find((s) => s.name === image);
      stage = {
        name,
        base: image,
        workdir: base?.workdir ?? "/",
        user: base?.user,
        cmd: base?.cmd,
        entrypoint: base?.entrypoint,
        steps: [],
      };
      stages.push(stage);
      continue;
    }
    if (stage === undefined) continue;
    if (instruction === "WORKDIR") stage.workdir = posix.resolve(stage.workdir, rest);
    else if (instruction === "USER") stage.user = rest;
    else if (instruction === "CMD") stage.cmd = execForm(rest);
    else if (instruction === "ENTRYPOINT") {
      stage.entrypoint = execForm(rest);
      stage.cmd = undefined;
    } else if (instruction === "RUN") {
      stage.steps.push({ type: "run", command: rest.replace(/^(--\S+\s+)*/, ""), workdir: stage.workdir });
    } else if (instruction === "COPY" || instruction === "ADD") {
      const words = rest.startsWith("[") ? JSON.parse(rest) : rest.split(/\s+/);
      const from = words.find((w) => w.startsWith("--from="))?.slice("--from=".length);
      const paths = words.filter((w) => !w.startsWith("--"));
      stage.steps.push({
        type: "copy",
        from,
        sources: paths.slice(0, -1),
        dest: paths.at(-1) ?? ".",
        workdir: stage.workdir,
      });
    }
  }
  return stages;
}

function execForm(rest) {
  if (rest.startsWith("[")) return JSON.parse(rest);
  return ["/bin/sh", "-c", rest];
}

/** Whether .dockerignore keeps `path` (relative to the context) out of the build context. */
export function isIgnored(dockerignore, path) {
  let ignored = false;
  for (const raw of dockerignore.split(/\r?\n/)) {
    let pattern = raw.trim();
    if (pattern === "" || pattern.startsWith("#")) continue;
    const negated = pattern.startsWith("!");
    if (negated) pattern = pattern.slice(1).trim();
    pattern = posix.normalize(pattern.replace(/^\/+/, ""));
    const regex = globToRegExp(pattern);
    // A pattern that matches a folder keeps out everything inside it.
    const parts = path.split("/");
    const hit = parts.some((_, i) => regex.test(parts.slice(0, i + 1).join("/")));
    if (hit) ignored = !negated;
  }
  return ignored;
}

export function globToRegExp(glob) {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*" && glob[i + 1] === "*") {
      const slash = glob[i + 2] === "/";
      out += slash ? "(?:.*/)?" : ".*";
      i += slash ? 2 : 1;
    } else if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else out += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${out}$`);
}

export function environmentOf(environment) {
  const env = new Map();
  if (Array.isArray(environment)) {
    for (const entry of environment) {
      const [name, ...value] = String(entry).split("=");
      env.set(name, value.length > 0 ? value.join("=") : undefined);
    }
  } else if (isObject(environment)) {
    for (const [name, value] of Object.entries(environment)) env.set(name, value == null ? undefined : String(value));
  }
  return env;
}

export function dependsOn(value) {
  if (Array.isArray(value)) return value.map((name) => ({ name: String(name), condition: undefined }));
  if (isObject(value)) return Object.entries(value).map(([name, spec]) => ({ name, condition: spec?.condition }));
  return [];
}

export function envFiles(value) {
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return list.map((entry) => (typeof entry === "string" ? { path: entry, required: true } : entry));
}

export function parseVolume(volume) {
  if (isObject(volume)) return { source: volume.source, target: volume.target };
  const [source, target] = String(volume).split(":");
  return target === undefined ? { source: undefined, target: source } : { source, target };
}

export function hasHealthcheck(service) {
  return (
    isObject(service?.healthcheck) && service.healthcheck.disable !== true && service.healthcheck.test !== undefined
  );
}

export function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function readJson(text) {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text.replace(/^\s*\/\/.*$/gm, "").replace(/,(\s*[}\]])/g, "$1"));
  } catch {
    return undefined;
  }
}
