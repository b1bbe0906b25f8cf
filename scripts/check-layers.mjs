#!/usr/bin/env node
// Fails when a module imports upward or sideways in the layer picture of ARCHITECTURE.md.
// Each folder under src/ may import only the folders listed for it (and itself).
import fs from 'node:fs';
import path from 'node:path';

const ALLOWED = {
  core: [],
  codec: ['core'],
  storage: ['core'],
  engine: ['core', 'codec', 'storage'],
  catalog: ['core'],
  db: ['core', 'engine', 'catalog', 'codec', 'storage'],
  wire: ['core'],
  client: ['core', 'db', 'wire'],
  ingest: ['core', 'client'],
  cluster: ['core', 'codec', 'storage', 'engine', 'catalog', 'db', 'wire', 'client'],
  server: ['core', 'codec', 'storage', 'engine', 'catalog', 'db', 'wire', 'client', 'ingest', 'cluster', 'server'],
  cli: ['core', 'codec', 'storage', 'engine', 'catalog', 'db', 'wire', 'client', 'ingest', 'cluster', 'server', 'cli'],
};
const src = path.resolve('src');
const problems = [];
function walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (/\.(ts|mts)$/.test(e.name)) checkFile(p);
  }
}
function layerOf(file) {
  const rel = path.relative(src, file);
  if (rel.startsWith('..')) return null;
  const top = rel.split(path.sep)[0];
  return top.endsWith('.ts') ? 'index' : top;
}
function checkFile(file) {
  const from = layerOf(file);
  if (from === 'index') return; // src/index.ts is the package entry and may re-export anything public
  const text = fs.readFileSync(file, 'utf8');
  const re = /(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const spec = m[1] ?? m[2];
    if (!spec.startsWith('.')) continue;
    const resolved = path.resolve(path.dirname(file), spec);
    // Tests beside code may use the shared test helpers under test/ (the reference model, fixtures).
    if (file.endsWith('.test.ts') && path.relative(path.resolve('test'), resolved).split(path.sep)[0] !== '..')
      continue;
    const target = layerOf(resolved);
    if (target === null) {
      problems.push(`${path.relative('.', file)} imports ${spec}, outside src/`);
      continue;
    }
    if (target === from) continue;
    const ok = ALLOWED[from];
    if (!ok) problems.push(`${path.relative('.', file)}: unknown layer ${from}`);
    else if (!ok.includes(target)) problems.push(`${path.relative('.', file)} (${from}) imports ${spec} (${target})`);
  }
}
walk(src);
if (problems.length) {
  console.error(`layer check failed (${problems.length}):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('layer check: ok');
