#!/usr/bin/env bash
# Runs every test with Node's built-in runner. The shell expands the globs because Node 20's
# `--test` does not, and would otherwise find no .ts file and still exit 0.
set -euo pipefail
shopt -s globstar nullglob
cd "$(dirname "$0")/.."
files=(test/**/*.test.ts)
if [ ${#files[@]} -eq 0 ]; then echo "no test files found" >&2; exit 1; fi
exec node --import tsx --test --test-reporter=spec "${files[@]}"
