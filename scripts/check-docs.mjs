/**
 * Fails the docs build when an exported symbol has no summary or no `@example` (TypeDoc checks
 * summaries only). Reads the JSON TypeDoc wrote beside the HTML (docs/api/api.json). Members of
 * classes and interfaces need a summary; the symbol itself needs both.
 */
import { readFileSync } from 'node:fs';

const api = JSON.parse(readFileSync(new URL('../docs/api/api.json', import.meta.url), 'utf8'));
const problems = [];
const comments = (node) => [node.comment, ...(node.signatures ?? []).map((s) => s.comment), ...(node.getSignature ? [node.getSignature.comment] : [])].filter(Boolean);
const hasSummary = (node) => comments(node).some((c) => (c.summary ?? []).some((part) => part.text.trim() !== ''));
const hasExample = (node) => comments(node).some((c) => (c.blockTags ?? []).some((t) => t.tag === '@example'));
let symbols = 0;
for (const module of api.children ?? []) {
  for (const symbol of module.children ?? []) {
    symbols++;
    const where = `${module.name}.${symbol.name}`;
    if (!hasSummary(symbol)) problems.push(`${where}: no summary`);
    if (!hasExample(symbol)) problems.push(`${where}: no @example`);
  }
}
if (problems.length) {
  console.error(`docs: ${problems.length} problem(s) in ${symbols} exported symbols:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`docs: every one of ${symbols} exported symbols has a summary and an @example`);
