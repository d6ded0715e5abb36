/** Where the workflow bundle's entry is, for the worker process and for tests. */
import { fileURLToPath } from 'node:url';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
