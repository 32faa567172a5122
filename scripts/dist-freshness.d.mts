export const projectRoot: string;
export const builtStamp: string;
/** 'fresh', 'stale' (sources changed since the build) or 'missing' (never built, or the last build failed). */
export function distState(): 'fresh' | 'stale' | 'missing';
