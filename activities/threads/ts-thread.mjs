// Worker threads do not inherit tsx's loader on Node 20, so each thread registers it and then
// imports its TypeScript entry (workerData.entry). Plain .mjs so Node can start it unaided.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
