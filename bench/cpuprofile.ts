// Summarises V8 .cpuprofile files (from `node --cpu-prof`): the hottest functions by self time, and self time
// per area (our lib/, the Kafka client, zstd, Node internals, GC, idle).
//
//   node bench/cpuprofile.ts FILE.cpuprofile [--top 25]
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface HotFunction {
  function: string;
  where: string;
  area: string;
  self_ms: number;
  self_pct: number;
}

export interface ProfileSummary {
  file: string;
  total_ms: number;
  /** Sampled time not spent idle (waiting for I/O). */
  busy_ms: number;
  top: HotFunction[];
  areas: { area: string; self_ms: number; self_pct: number }[];
}

/** Which part of the program a frame belongs to, from its script URL. */
export function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') {
    if (functionName.startsWith('(')) return functionName; // (garbage collector), (program), (idle), (root)
    return 'native (C++/napi)';
  }
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (nm) return nm[1]!;
  if (url.startsWith('node:')) return 'node internals';
  const ours = /\/(lib|bin|bench)\/(.*)$/.exec(url);
  if (ours) return `${ours[1]}/${ours[2]!.split('/')[0]}`;
  return url;
}

function shortUrl(url: string): string {
  if (url === '') return '';
  const nm = /node_modules\/(.*)$/.exec(url);
  if (nm) return nm[1]!;
  const ours = /\/((?:lib|bin|bench)\/.*)$/.exec(url);
  if (ours) return ours[1]!;
  return url.replace(/^file:\/\//, '');
}

export function summariseProfile(path: string, top = 25): ProfileSummary {
  const p = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i]!;
    // timeDeltas[i] is the time since the previous sample: charge it to this one.
    selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const fns = new Map<string, { fn: string; where: string; area: string; us: number }>();
  const areas = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (!n) continue;
    const f = n.callFrame;
    total += us;
    if (f.functionName === '(idle)') idle += us;
    const where = f.url ? `${shortUrl(f.url)}:${f.lineNumber + 1}` : '';
    const name = f.functionName || '(anonymous)';
    const key = `${name}\u0000${where}`;
    const area = areaOf(f);
    const e = fns.get(key) ?? { fn: name, where, area, us: 0 };
    e.us += us;
    fns.set(key, e);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const pct = (us: number) => Math.round((1000 * us) / Math.max(1, total)) / 10;
  return {
    file: basename(path),
    total_ms: Math.round(total / 1000),
    busy_ms: Math.round((total - idle) / 1000),
    top: [...fns.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((e) => ({
        function: e.fn,
        where: e.where,
        area: e.area,
        self_ms: Math.round(e.us / 1000),
        self_pct: pct(e.us),
      })),
    areas: [...areas.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([area, us]) => ({ area, self_ms: Math.round(us / 1000), self_pct: pct(us) })),
  };
}

export function renderProfileSummary(s: ProfileSummary, label = s.file): string {
  const lines = [
    `CPU profile ${label}: ${(s.total_ms / 1000).toFixed(1)} s sampled, ${(s.busy_ms / 1000).toFixed(1)} s not idle`,
    '  self %  self ms  function  (where)',
  ];
  for (const f of s.top) {
    lines.push(
      `  ${f.self_pct.toFixed(1).padStart(5)}  ${String(f.self_ms).padStart(7)}  ${f.function}${f.where ? `  (${f.where})` : ''}  [${f.area}]`,
    );
  }
  lines.push('  by area:');
  for (const a of s.areas.slice(0, 12)) {
    lines.push(`  ${a.self_pct.toFixed(1).padStart(5)}  ${String(a.self_ms).padStart(7)}  ${a.area}`);
  }
  return lines.join('\n');
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' }, json: { type: 'boolean' } },
  });
  if (positionals.length === 0) {
    console.error('usage: node bench/cpuprofile.ts FILE.cpuprofile... [--top N] [--json]');
    process.exit(2);
  }
  for (const file of positionals) {
    const s = summariseProfile(file, Number(values.top));
    console.log(values.json ? JSON.stringify(s, null, 2) : renderProfileSummary(s));
  }
}
