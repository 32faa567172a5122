/** What may be logged about an unexpected error: its kind, never its message (a SQL error quotes its parameters). */
export function errorKind(error: unknown): { error: string; code?: string } {
  if (!(error instanceof Error)) return { error: typeof error };
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? { error: error.name, code } : { error: error.name };
}

/** Checks an option that must be a whole number of at least 1. */
export function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`);
  return value;
}
