#!/usr/bin/env node
// The `flywheel` command. Registers tsx so the CLI runs from its TypeScript sources, with no build step.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
