import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolve } from '../../../lib/cli/main.ts';
import { parseCommand } from '../../../lib/cli/spec.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const DOCS = {
  'README.md': readFileSync(join(ROOT, 'README.md'), 'utf8'),
  'the seed (multi-cluster-dr.md)': readFileSync(join(ROOT, 'test', 'fixtures', 'seed-commands.md'), 'utf8'),
};

/** Shell words, quotes kept together (`"$(date +%s000)"` is one word). */
function words(line: string): string[] {
  return [...line.matchAll(/"[^"]*"|'[^']*'|\S+/g)].map((m) => m[0].replace(/^["']|["']$/g, ''));
}

/**
 * Every `kafka-backup ...` command of the documents' bash blocks, continuation lines joined, as argv. Optional
 * `[...]` parts count (their flags must exist too) and `a|b` alternatives stand for their first choice.
 */
function documentedCommands(text: string): string[][] {
  const out: string[][] = [];
  for (const block of text.matchAll(/```(?:bash|sh)\n([\s\S]*?)```/g)) {
    const joined = block[1]!.replace(/\\\n\s*/g, ' ');
    for (const full of joined.split('\n')) {
      const line = full.replace(/(^|\s)#.*$/, '');
      const at = line.search(/(^|[\s(=;&])kafka-backup (?=[a-z])/);
      if (at === -1) continue;
      const command = line.slice(line.indexOf('kafka-backup ', at) + 'kafka-backup '.length);
      const argv: string[] = [];
      for (const w of words(command.replace(/[[\]]/g, ' '))) {
        if (w === '|' || w === '>' || w === '&&') break;
        argv.push(
          !w.startsWith('-') && w.includes('|') && !w.includes(' ') ? w.split('|')[0]! : w.replace(/\)$/, ''),
        );
      }
      out.push(argv);
    }
  }
  return out;
}

describe('the command lines of the README and the seed', () => {
  for (const [doc, text] of Object.entries(DOCS)) {
    const commands = documentedCommands(text);
    it(`${doc}: finds its commands`, () => {
      expect(commands.length).toBeGreaterThan(doc === 'README.md' ? 15 : 6);
    });
    for (const argv of commands)
      it(`${doc}: kafka-backup ${argv.join(' ')}`, () => {
        const found = resolve(argv);
        if ('group' in found) return;
        expect(() => parseCommand(found.command.spec, found.rest)).not.toThrow();
      });
  }
});
