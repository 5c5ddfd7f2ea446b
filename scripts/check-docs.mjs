/**
 * Fails the docs build when an exported symbol has no summary, or when a function or a class
 * (other than an error class) has no `@example` (TypeDoc checks summaries only). Types,
 * constants, fields and error classes need a summary, not a ritual example
 * (docs/api-conventions.md). Reads the JSON TypeDoc wrote beside the HTML (docs/api/api.json).
 */
import { readFileSync } from 'node:fs';

const api = JSON.parse(readFileSync(new URL('../docs/api/api.json', import.meta.url), 'utf8'));
const problems = [];
const comments = (node) => [node.comment, ...(node.signatures ?? []).map((s) => s.comment), ...(node.getSignature ? [node.getSignature.comment] : [])].filter(Boolean);
const hasSummary = (node) => comments(node).some((c) => (c.summary ?? []).some((part) => part.text.trim() !== ''));
const hasExample = (node) => comments(node).some((c) => (c.blockTags ?? []).some((t) => t.tag === '@example'));
// TypeDoc's ReflectionKind: Class 128, Function 64.
const needsExample = (node) => node.kind === 64 || (node.kind === 128 && !node.name.endsWith('Error'));
let symbols = 0;
let examples = 0;
for (const module of api.children ?? []) {
  for (const symbol of module.children ?? []) {
    symbols++;
    const where = `${module.name}.${symbol.name}`;
    if (!hasSummary(symbol)) problems.push(`${where}: no summary`);
    if (!needsExample(symbol)) continue;
    examples++;
    if (!hasExample(symbol)) problems.push(`${where}: no @example`);
  }
}
if (problems.length) {
  console.error(`docs: ${problems.length} problem(s) in ${symbols} exported symbols:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`docs: all ${symbols} exported symbols have a summary; all ${examples} functions and classes an @example`);
