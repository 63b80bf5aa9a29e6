/**
 * The errors of the expression language. Expressions reach discovery from outside (a stored
 * candidate, an operator's command line), so a bad one is an answer with a stable code and a
 * place, never a crash deeper in.
 */

/** The codes of {@link ExpressionError}. */
export const ExpressionErrorCodes = {
  /** The text is not an expression: `position` is the character offset where reading stopped. */
  PARSE: "PARSE",
  /** The tree is not well formed or not well typed: `path` names the node. */
  INVALID: "INVALID_EXPRESSION",
} as const;
/** One of {@link ExpressionErrorCodes}. */
export type ExpressionErrorCode = (typeof ExpressionErrorCodes)[keyof typeof ExpressionErrorCodes];

/**
 * A text that does not parse or a tree that does not type-check. Not retryable: the same input
 * fails the same way.
 */
export class ExpressionError extends Error {
  override readonly name = "ExpressionError";
  readonly retryable = false;
  /** Character offset in the text (parse errors), else undefined. */
  readonly position: number | undefined;
  /** Where in the tree (`args[1].args[0]`, `""` for the root), else undefined. */
  readonly path: string | undefined;

  constructor(
    readonly code: ExpressionErrorCode,
    message: string,
    where: { position?: number; path?: string } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.position = where.position;
    this.path = where.path;
  }
}
