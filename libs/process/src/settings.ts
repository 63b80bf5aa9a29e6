/** Settings from the environment, each checked and named in the error when it is wrong. */

/**
 * The integer setting `name` from `raw` (an environment variable or a flag), or
 * `fallback` when it is unset or empty; throws an Error naming the setting and
 * its range when it is not an integer in [min, max].
 */
export function intSetting(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(raw)}`);
  }
  return value;
}
