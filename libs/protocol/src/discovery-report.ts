/** Placeholder until the validation report lands. */
export interface ValidationReport {
  passed: boolean;
  [field: string]: unknown;
}
