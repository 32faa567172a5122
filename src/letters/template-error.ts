// Moved to template/template-error.ts. Kept only for src/mailings/runner.ts, which another change is
// editing; delete once it imports from there.
export * from './template/template-error.js';
