// The TypeScript declarations: a typed consumer (ES module and CommonJS, module nodenext,
// strict) type-checks against the installed package, and a wrong record type is rejected.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

test('the typed consumer compiles with tsc --strict', () => {
  const tsc = join(process.cwd(), 'node_modules', '.bin', 'tsc');
  assert.ok(existsSync(tsc), 'typescript is installed in the consumer project');
  const result = spawnSync(tsc, ['-p', join('test', 'types')], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stdout + result.stderr);
});
