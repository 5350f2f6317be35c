#!/usr/bin/env node
// Reads the TAP output of a test run and prints one closing line,
// `tests: N passed, N failed, N skipped`, counting the named tests inside
// each test file (the second level of the TAP tree). Exits non-zero when
// any test failed or when no test ran at all.
import { readFileSync } from 'node:fs';

const text = readFileSync(process.argv[2] ?? 0, 'utf8');
let passed = 0;
let failed = 0;
let skipped = 0;
let files = 0;
let failedFiles = 0;
for (const line of text.split('\n')) {
  const file = /^(not ok|ok) \d+ - /.exec(line);
  if (file) {
    files += 1;
    if (file[1] === 'not ok') failedFiles += 1;
    continue;
  }
  const m = /^ {4}(not ok|ok) \d+ - .*?(# (SKIP|TODO)\b.*)?$/i.exec(line);
  if (!m) continue;
  if (m[3]) skipped += 1;
  else if (m[1] === 'ok') passed += 1;
  else failed += 1;
}
// A file that failed without a failing named test (a crash at load time,
// a timeout) still counts as one failure.
if (failedFiles > 0 && failed === 0) failed = failedFiles;
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed + failed === 0 || files === 0 ? 1 : 0);
