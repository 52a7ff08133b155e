#!/usr/bin/env node
// The `kubectl-modelkeys` executable: kubectl runs it as `kubectl modelkeys …` once it is on PATH.
import { main } from "../src/main.ts";

process.exitCode = await main(process.argv.slice(2));
