#!/usr/bin/env node
// The CLI runs the TypeScript sources through tsx so that scenario scripts (scripts/*.ts) and the
// simulator share one module graph; there is no separate build step to forget.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
