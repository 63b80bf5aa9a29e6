/** A registered strategy as text for people: one field per line, empty fields shown as `-`. */
import type { Strategy } from "@stratreg/client";
import { originOf, type Params, type VenueVariant } from "@stratreg/protocol";

function paramsText(params: Params | undefined): string {
  if (params === undefined || Object.keys(params).length === 0) return "";
  return ` {${Object.entries(params)
    .map(([key, value]) => `${key}: ${JSON.stringify(value)}`)
    .join(", ")}}`;
}

function listText(items: readonly string[]): string {
  return items.length === 0 ? "-" : items.join(", ");
}

function venueText(venue: VenueVariant): string {
  return `${venue.venue} [${venue.symbols.join(", ")}]${paramsText(venue.params)}`;
}

/** Lines describing `strategy`. */
export function strategyLines(strategy: Strategy): string[] {
  const template =
    strategy.template === null
      ? "-"
      : `${strategy.template.id}${strategy.template.version === undefined ? "" : ` v${strategy.template.version}`}${paramsText(strategy.template.params)}`;
  const fields: Array<[string, string]> = [
    ["id", strategy.id],
    ["name", strategy.name],
    ["version", String(strategy.version)],
    ["state", strategy.state],
    ["owner", strategy.owner],
    ["family", strategy.family ?? "-"],
    ["tags", listText(strategy.tags)],
    ["description", strategy.description === "" ? "-" : strategy.description],
    ["parents", listText(strategy.parents)],
    // Strategies registered without an origin read as their parents say (docs/protocol.md, Genealogy).
    ["origin", `${originOf(strategy)}${strategy.origin === undefined ? " (read from its parents)" : ""}`],
    ["dependencies", listText(strategy.dependencies)],
    ["template", template],
    ["venues", strategy.venues.length === 0 ? "-" : strategy.venues.map(venueText).join("; ")],
    ["created", new Date(strategy.createdAt).toISOString()],
    ["updated", new Date(strategy.updatedAt).toISOString()],
  ];
  const width = Math.max(...fields.map(([key]) => key.length)) + 1;
  return fields.map(([key, value]) => `${`${key}:`.padEnd(width)} ${value}`);
}
