/**
 * The error a query that does not parse or type-check raises: a ValidationError
 * with code INVALID_QUERY whose details carry the position, so that a client
 * that only has the wire form can still point at the text.
 */
import { ErrorCodes, ValidationError } from "@stratreg/protocol";

/** Where in a text an offset falls: 1-based line and column, as editors count. */
export interface LineColumn {
  line: number;
  column: number;
}

/** The 1-based line and column of a 0-based offset (a line ends at `\n`). */
export function lineColumnAt(text: string, position: number): LineColumn {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < position && i < text.length; i++) {
    if (text[i] === "\n") {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: position - lineStart + 1 };
}

/**
 * The line of `text` holding `position`, with a caret under it and the message
 * beneath, e.g. for a terminal or a log:
 * ```
 * sharpe > 'high'
 *          ^ expected a number for sharpe, found string 'high'
 * ```
 */
export function renderQueryPosition(text: string, position: number, message: string): string {
  const { line, column } = lineColumnAt(text, position);
  const source = text.split("\n")[line - 1] ?? "";
  const prefix = text.includes("\n") ? `${line} | ` : "";
  return `${prefix}${source}\n${" ".repeat(prefix.length + column - 1)}^ ${message}`;
}

/** Options of a {@link QueryError}. */
export interface QueryErrorOptions {
  /** Path of the request field that held the query (default `body.query`). */
  field?: string;
  /** What the parser expected at the position, e.g. `a value`. */
  expected?: string;
  /** What it found there, e.g. `end of query`. */
  found?: string;
}

/** A query that does not parse or does not type-check, with the position of the fault. */
export class QueryError extends ValidationError {
  override name = "QueryError";
  /** The query text. */
  readonly query: string;
  /** 0-based offset of the fault in {@link query}. */
  readonly position: number;
  /** 1-based line of the fault. */
  readonly line: number;
  /** 1-based column of the fault. */
  readonly column: number;
  /** The message without the `(line, column)` suffix, as the caret rendering shows it. */
  readonly reason: string;

  constructor(query: string, position: number, message: string, options: QueryErrorOptions = {}) {
    const { line, column } = lineColumnAt(query, position);
    const details: Record<string, unknown> = { position, line, column };
    if (options.expected !== undefined) details.expected = options.expected;
    if (options.found !== undefined) details.found = options.found;
    super(ErrorCodes.InvalidQuery, `${message} (line ${line}, column ${column})`, {
      field: options.field ?? "body.query",
      details,
    });
    this.query = query;
    this.position = position;
    this.line = line;
    this.column = column;
    this.reason = message;
  }

  /** The query's faulty line with a caret under the position and the message beneath. */
  render(): string {
    return renderQueryPosition(this.query, this.position, this.reason);
  }
}
