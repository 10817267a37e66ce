/** The pieces of the guides in docs/ that the tests read: code blocks and the tables' cells. */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const root = resolve(import.meta.dirname, '..', '..');
export const docsDir = join(root, 'docs');

export interface CodeBlock {
  /** The guide's file name, e.g. 'memory.md'. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The words after ```ts on the fence, e.g. ['no-run']. */
  flags: string[];
  code: string;
}

/** Every docs/*.md file name, sorted. */
export function guideFiles(): string[] {
  return readdirSync(docsDir)
    .filter((name) => name.endsWith('.md'))
    .sort();
}

export function readGuide(file: string): string {
  return readFileSync(join(docsDir, file), 'utf8');
}

/** The ```ts blocks of a guide, with the flags on their opening fence. */
export function tsBlocks(file: string, markdown = readGuide(file)): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  for (const match of markdown.matchAll(/^```ts([^\n]*)\n([\s\S]*?)^```$/gm)) {
    const line = markdown.slice(0, match.index).split('\n').length;
    blocks.push({ file, line, flags: match[1].trim().split(/\s+/).filter(Boolean), code: match[2] });
  }
  return blocks;
}

/**
 * The text of one column of every markdown table whose header row names that column, e.g. every
 * 'nodegrad' cell of the PyTorch guide. Escaped pipes (`\|`) stay inside their cell.
 */
export function tableColumn(markdown: string, header: string): string[] {
  return tableCells(markdown, header).map((cell) => cell.text);
}

/** tableColumn's cells with the 0-based line each is on. */
export function tableCells(markdown: string, header: string): { line: number; text: string }[] {
  const cells: { line: number; text: string }[] = [];
  let column: number | null = null; // null: not in a table; -1: in a table without that column
  for (const [index, line] of markdown.split('\n').entries()) {
    if (!line.startsWith('|')) {
      column = null;
      continue;
    }
    const row = line
      .slice(1, line.trimEnd().endsWith('|') ? line.trimEnd().length - 1 : undefined)
      .split(/(?<!\\)\|/)
      .map((cell) => cell.trim());
    if (column === null) {
      column = row.indexOf(header);
      continue;
    }
    if (column === -1 || row.every((cell) => /^:?-+:?$/.test(cell))) continue;
    if (column < row.length) cells.push({ line: index, text: row[column] });
  }
  return cells;
}
