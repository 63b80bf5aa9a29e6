/**
 * The errors of the miner. A bad candidate is never one of them (it is an unusable evaluation);
 * these are about the machinery: a pool used after it was closed, a worker that died, a worker
 * file that was never built, a checkpoint resumed into the wrong search.
 */

/** The codes of {@link MiningError}. */
export const MiningErrorCodes = {
  /** The evaluation pool was closed before or while it was asked to evaluate. */
  POOL_CLOSED: "POOL_CLOSED",
  /** A worker failed a whole task (it died, say); the pool replaces it, so trying again may work. */
  WORKER_FAILED: "WORKER_FAILED",
  /** The worker's JavaScript is not there: the package has not been built (`npx tsc -b`). */
  WORKER_NOT_BUILT: "WORKER_NOT_BUILT",
  /** A checkpoint does not belong to the search it was handed to (another target, another shape). */
  CHECKPOINT_MISMATCH: "CHECKPOINT_MISMATCH",
} as const;
/** One of {@link MiningErrorCodes}. */
export type MiningErrorCode = (typeof MiningErrorCodes)[keyof typeof MiningErrorCodes];

/** A failure of the miner's machinery, with a stable code. Only a failed worker is worth retrying. */
export class MiningError extends Error {
  override readonly name = "MiningError";
  readonly retryable: boolean;

  constructor(
    readonly code: MiningErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.retryable = code === MiningErrorCodes.WORKER_FAILED;
  }
}
