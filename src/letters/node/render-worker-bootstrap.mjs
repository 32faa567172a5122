// Worker threads start as plain Node, whether the app runs under tsx (`npm run signet`) or vitest,
// and plain Node cannot import TypeScript: register tsx for this thread, then load the renderer.
// The compiled server never loads this file: `npm run build` puts the compiled renderer in its place.
import { register } from 'tsx/esm/api';

register();
await import('./render-worker.ts');
