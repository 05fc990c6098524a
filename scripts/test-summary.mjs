#!/usr/bin/env node
// Prints vitest's JSON report as one plain closing line: "vitest: N passed, N failed".
import { readFileSync } from "node:fs";

const report = JSON.parse(readFileSync(process.argv[2] ?? ".tmp/vitest.json", "utf8"));
const skipped = report.numPendingTests + report.numTodoTests;
const tail = skipped > 0 ? `, ${skipped} skipped` : "";
console.log(`vitest: ${report.numPassedTests} passed, ${report.numFailedTests} failed${tail}`);
process.exit(report.numFailedTests === 0 && report.numTotalTests > 0 ? 0 : 1);
