// Moved to template/update-template.ts. Kept only for src/mailings/runner.ts, which another change is
// editing; delete once it imports from there.
export * from './template/update-template.js';
