// JSON-like record values for ProducerPerformance's --payload-file (one payload per line, picked at random per
// record). Its default --record-size payload is one random A-Z string reused for every record: a stream of
// identical records, which zstd shrinks to almost nothing across records while a single record barely compresses.
// Neither is what a topic holds, so the benchmark writes JSON events with realistic structure (repeated keys,
// enums, timestamps, ids, numbers, some free text) from a seeded generator, so every run sees the same data.
//
// The pool of distinct payloads is larger than zstd's window (2-4 MiB at levels 3-6), so whole-record repeats
// (ProducerPerformance picks from the pool at random) are mostly out of reach and compression reflects
// structure, not duplication.
import { createWriteStream, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { finished } from 'node:stream/promises';

/** Bumped whenever the generator changes, so cached payload files are rebuilt. */
const GENERATOR_VERSION = 1;

export type PayloadKind = 'sensor' | 'order' | 'logbatch';

export interface PayloadSpec {
  kind: PayloadKind;
  /** Target size of one payload in bytes (each lands within a few percent). */
  size: number;
  /** Distinct payloads in the file. */
  count: number;
}

/** mulberry32: small, fast and seedable; the data only needs to look random, not be. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = ['Ada', 'Grace', 'Linus', 'Barbara', 'Ken', 'Margaret', 'Dennis', 'Frances', 'Edsger', 'Radia'];
const LAST = [
  'Lovelace',
  'Hopper',
  'Torvalds',
  'Liskov',
  'Thompson',
  'Hamilton',
  'Ritchie',
  'Allen',
  'Dijkstra',
];
const CITIES = [
  'Springfield',
  'Riverside',
  'Franklin',
  'Greenville',
  'Bristol',
  'Clinton',
  'Fairview',
  'Salem',
];
const PRODUCTS = ['widget', 'gadget', 'sprocket', 'gizmo', 'doohickey', 'flange', 'bracket', 'valve', 'gear'];
const ADJ = [
  'blue',
  'large',
  'compact',
  'steel',
  'premium',
  'eco',
  'smart',
  'classic',
  'wireless',
  'heavy-duty',
];
const WORDS =
  'the order was delayed because the warehouse ran out of stock please contact support if the package does not arrive within five business days customer asked for gift wrapping and a printed receipt leave at the front door'.split(
    ' ',
  );
const LEVELS = ['INFO', 'INFO', 'INFO', 'INFO', 'DEBUG', 'WARN', 'ERROR'];
const LOGGERS = ['com.example.orders.OrderService', 'com.example.http.RequestLogger', 'com.example.db.Pool'];
const PATHS = ['/api/v1/orders', '/api/v1/customers', '/api/v1/payments', '/api/v2/cart', '/health'];
const EVENT_TYPES = ['order.created', 'order.paid', 'order.shipped', 'order.cancelled', 'order.refunded'];

class Gen {
  readonly #r: () => number;
  #clock = Date.UTC(2025, 10, 1);
  constructor(seed: number) {
    this.#r = rng(seed);
  }
  int(n: number): number {
    return Math.floor(this.#r() * n);
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }
  hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[this.int(16)];
    return s;
  }
  uuid(): string {
    return `${this.hex(8)}-${this.hex(4)}-4${this.hex(3)}-${'89ab'[this.int(4)]}${this.hex(3)}-${this.hex(12)}`;
  }
  /** A clock that moves forward by a few ms per call, as a stream of events would. */
  ts(): number {
    this.#clock += this.int(50);
    return this.#clock;
  }
  money(max: number): number {
    return Math.round(this.#r() * max * 100) / 100;
  }
  words(n: number): string {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.pick(WORDS));
    return out.join(' ');
  }
}

/** ~100 B: an IoT/metrics reading. */
function sensor(g: Gen): string {
  return JSON.stringify({
    id: g.int(1e9),
    ts: g.ts(),
    sensor: `s-${String(g.int(5000)).padStart(4, '0')}`,
    temp: g.money(40),
    hum: g.money(100),
    ok: g.int(20) !== 0,
    fw: `2.${g.int(10)}.${g.int(10)}`,
  });
}

/** ~1 KB: an order event with a customer and line items, filled up to `size` with items and a note. */
function order(g: Gen, size: number): string {
  const first = g.pick(FIRST);
  const last = g.pick(LAST);
  const doc = {
    event_id: g.uuid(),
    type: g.pick(EVENT_TYPES),
    ts: new Date(g.ts()).toISOString(),
    source: 'checkout-service',
    customer: {
      id: `C-${String(g.int(1e7)).padStart(7, '0')}`,
      name: `${first} ${last}`,
      email: `${first}.${last}${g.int(100)}@example.com`.toLowerCase(),
      tier: g.pick(['bronze', 'silver', 'gold']),
      address: {
        street: `${g.int(9999)} Main St`,
        city: g.pick(CITIES),
        zip: String(g.int(99999)),
        country: 'US',
      },
    },
    items: [] as { sku: string; name: string; qty: number; unit_price: number }[],
    total: 0,
    currency: 'USD',
    payment: { method: g.pick(['card', 'paypal', 'invoice']), last4: String(g.int(10000)), auth: g.hex(10) },
    session: g.hex(32),
    note: '',
  };
  let text = JSON.stringify(doc);
  while (text.length < size - 120) {
    const unit = g.money(200);
    const qty = 1 + g.int(5);
    doc.items.push({
      sku: `SKU-${g.int(1e6)}`,
      name: `${g.pick(ADJ)} ${g.pick(PRODUCTS)}`,
      qty,
      unit_price: unit,
    });
    doc.total = Math.round((doc.total + unit * qty) * 100) / 100;
    text = JSON.stringify(doc);
  }
  doc.note = g.words(40).slice(0, Math.max(0, size - text.length));
  return JSON.stringify(doc);
}

/** ~100 KB: a batch of application log lines, as a log shipper would send. */
function logbatch(g: Gen, size: number): string {
  const host = `app-${g.int(50)}.prod.internal`;
  const lines: string[] = [];
  let len = 80;
  while (len < size) {
    const line = JSON.stringify({
      ts: new Date(g.ts()).toISOString(),
      level: g.pick(LEVELS),
      logger: g.pick(LOGGERS),
      thread: `worker-${g.int(32)}`,
      trace: g.hex(16),
      msg: `${g.pick(['GET', 'POST', 'PUT'])} ${g.pick(PATHS)}/${g.int(1e6)} -> ${g.pick([200, 200, 200, 201, 404, 500])} in ${g.int(900)} ms ${g.words(g.int(6))}`,
    });
    lines.push(line);
    len += line.length + 1;
  }
  return `{"host":"${host}","batch":"${g.uuid()}","records":[${lines.join(',')}]}`;
}

function payload(g: Gen, spec: PayloadSpec): string {
  switch (spec.kind) {
    case 'sensor':
      return sensor(g);
    case 'order':
      return order(g, spec.size);
    case 'logbatch':
      return logbatch(g, spec.size);
  }
}

/**
 * Writes (once; cached by name and generator version) a file of `spec.count` newline-separated payloads and
 * returns its path and mean payload size.
 */
export async function ensurePayloadFile(
  dir: string,
  spec: PayloadSpec,
): Promise<{ path: string; bytes: number }> {
  const path = `${dir}/payload-${spec.kind}-${spec.size}-${spec.count}-v${GENERATOR_VERSION}.txt`;
  if (existsSync(path)) {
    const bytes = statSync(path).size;
    return { path, bytes };
  }
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.tmp`;
  const out = createWriteStream(temp);
  const g = new Gen(0x6b61666b ^ spec.size);
  let bytes = 0;
  for (let i = 0; i < spec.count; i++) {
    const line = `${payload(g, spec)}\n`;
    bytes += line.length;
    if (!out.write(line)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  out.end();
  await finished(out);
  renameSync(temp, path);
  return { path, bytes };
}
