#!/usr/bin/env node
// The `kubectl-modelkeys` executable: kubectl runs it as `kubectl modelkeys …` once it is on PATH.
// No top-level await, so the same entry bundles as CommonJS for Node's single executable applications.
import { main } from "../src/main.ts";

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
