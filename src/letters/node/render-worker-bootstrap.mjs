// Worker threads start as plain Node, whether the app runs under tsx (npm start) or vitest, and
// plain Node cannot import TypeScript: register tsx for this thread, then load the renderer.
import { register } from 'tsx/esm/api';

register();
await import('./render-worker.ts');
