// A stand-in for a Schema Registry speaking Confluent's REST API, in this process: subjects, versions, global
// schema ids (one id per distinct schema, shared by subjects), compatibility and modes with IMPORT (explicit id
// and version, refused for an id that holds another schema; IMPORT on a subject with versions needs force=true),
// and optional basic auth. No registry that speaks this API could be installed on this machine (README, "Schema
// Registry"), so tests of lib/metadata's registry client run against this; it follows the behaviour documented
// for Confluent Schema Registry's API and nothing of kafka-backup.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

interface Ref {
  name: string;
  subject: string;
  version: number;
}
interface Stored {
  schema: string;
  schemaType: string;
  references: Ref[];
}
interface Version {
  version: number;
  id: number;
}

export interface RegistryStandIn {
  url: string;
  /** Registers directly (as a producer's serializer would), returning the id. */
  register(subject: string, schema: string): number;
  subjects(): string[];
  close(): Promise<void>;
  /** Requests seen, e.g. `PUT /mode/orders-value?force=true`. */
  requests: string[];
}

function canonical(schema: string): string {
  try {
    return JSON.stringify(JSON.parse(schema));
  } catch {
    return schema.trim();
  }
}

export async function startRegistryStandIn(
  opts: {
    basicAuth?: { username: string; password: string };
    firstId?: number;
    /** No /mode endpoints and ids in a request ignored, as Apicurio's compatibility API. */
    noModes?: boolean;
  } = {},
): Promise<RegistryStandIn> {
  const schemas = new Map<number, Stored>();
  const subjects = new Map<string, Version[]>();
  const compat = new Map<string, string>();
  const modes = new Map<string, string>();
  let globalMode = 'READWRITE';
  let nextId = opts.firstId ?? 1;
  const requests: string[] = [];

  const keyOf = (s: Stored) => `${s.schemaType}|${canonical(s.schema)}|${JSON.stringify(s.references)}`;
  const idOf = (s: Stored) => [...schemas].find(([, v]) => keyOf(v) === keyOf(s))?.[0];
  const modeOf = (subject: string) => modes.get(subject) ?? globalMode;

  const registerPlain = (subject: string, s: Stored): number => {
    const versions = subjects.get(subject) ?? [];
    const id = idOf(s) ?? nextId++;
    if (!schemas.has(id)) schemas.set(id, s);
    if (!versions.some((v) => v.id === id))
      versions.push({ version: (versions.at(-1)?.version ?? 0) + 1, id });
    subjects.set(subject, versions);
    return id;
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      requests.push(`${req.method} ${url.pathname}${url.search}`);
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
        res.end(JSON.stringify(body));
      };
      const fail = (status: number, code: number, message: string) =>
        send(status, { error_code: code, message });
      if (opts.basicAuth) {
        const want = `Basic ${Buffer.from(`${opts.basicAuth.username}:${opts.basicAuth.password}`).toString('base64')}`;
        if (req.headers.authorization !== want) return fail(401, 40101, 'Unauthorized');
      }
      const body = chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
      const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
      const stored = (b: { schema: string; schemaType?: string; references?: Ref[] }): Stored => ({
        schema: b.schema,
        schemaType: b.schemaType ?? 'AVRO',
        references: b.references ?? [],
      });
      const reply = (id: number) => {
        const s = schemas.get(id)!;
        return {
          schema: s.schema,
          ...(s.schemaType !== 'AVRO' ? { schemaType: s.schemaType } : {}),
          ...(s.references.length ? { references: s.references } : {}),
        };
      };

      if (parts[0] === 'subjects' && parts.length === 1 && req.method === 'GET')
        return send(200, [...subjects.keys()]);
      if (parts[0] === 'subjects' && parts.length >= 2) {
        const subject = parts[1]!;
        const versions = subjects.get(subject);
        if (parts.length === 2 && req.method === 'POST') {
          if (!versions) return fail(404, 40401, `Subject '${subject}' not found.`);
          const id = idOf(stored(body));
          const v = versions.find((x) => x.id === id);
          if (!v) return fail(404, 40403, 'Schema not found');
          return send(200, { subject, id: v.id, version: v.version, ...reply(v.id) });
        }
        if (parts[2] === 'versions' && parts.length === 3 && req.method === 'GET') {
          if (!versions) return fail(404, 40401, `Subject '${subject}' not found.`);
          return send(
            200,
            versions.map((v) => v.version),
          );
        }
        if (parts[2] === 'versions' && parts.length === 4 && req.method === 'GET') {
          const v =
            parts[3] === 'latest' ? versions?.at(-1) : versions?.find((x) => x.version === Number(parts[3]));
          if (!v) return fail(404, 40402, 'Version not found.');
          return send(200, { subject, version: v.version, id: v.id, ...reply(v.id) });
        }
        if (parts[2] === 'versions' && parts.length === 3 && req.method === 'POST') {
          const s = stored(body);
          const mode = modeOf(subject);
          if (mode === 'READONLY') return fail(422, 42205, `Subject ${subject} is in read-only mode`);
          if (body.id !== undefined && !opts.noModes) {
            if (mode !== 'IMPORT')
              return fail(422, 42205, 'Subject is not in import mode: an id cannot be given');
            const holder = schemas.get(body.id);
            if (holder && keyOf(holder) !== keyOf(s))
              return fail(422, 42205, `Overwrite new schema with id ${body.id} is not permitted.`);
            schemas.set(body.id, s);
            nextId = Math.max(nextId, body.id + 1);
            const list = subjects.get(subject) ?? [];
            list.push({ version: body.version ?? (list.at(-1)?.version ?? 0) + 1, id: body.id });
            list.sort((a, b) => a.version - b.version);
            subjects.set(subject, list);
            return send(200, { id: body.id });
          }
          if (mode === 'IMPORT') return fail(422, 42205, 'Subject is in import mode: give an id');
          return send(200, { id: registerPlain(subject, s) });
        }
      }
      if (parts[0] === 'schemas' && parts[1] === 'ids' && req.method === 'GET') {
        const id = Number(parts[2]);
        if (!schemas.has(id)) return fail(404, 40403, 'Schema not found');
        return send(200, reply(id));
      }
      if (parts[0] === 'mode' && opts.noModes) return fail(404, 404, 'Operation not supported.');
      if (parts[0] === 'mode') {
        if (parts.length === 1) {
          if (req.method === 'GET') return send(200, { mode: globalMode });
          if (req.method === 'PUT') {
            globalMode = body.mode;
            return send(200, { mode: globalMode });
          }
        }
        const subject = parts[1]!;
        if (req.method === 'GET') {
          const m = modes.get(subject);
          if (m === undefined && url.searchParams.get('defaultToGlobal') !== 'true')
            return fail(404, 40409, 'Subject does not have subject-level mode configured');
          return send(200, { mode: m ?? globalMode });
        }
        if (req.method === 'PUT') {
          if (
            body.mode === 'IMPORT' &&
            (subjects.get(subject)?.length ?? 0) > 0 &&
            url.searchParams.get('force') !== 'true'
          )
            return fail(422, 42205, 'Cannot import since found existing subjects');
          modes.set(subject, body.mode);
          return send(200, { mode: body.mode });
        }
        if (req.method === 'DELETE') {
          const m = modes.get(subject);
          modes.delete(subject);
          return send(200, { mode: m ?? globalMode });
        }
      }
      if (parts[0] === 'config') {
        if (parts.length === 1) return send(200, { compatibilityLevel: compat.get('') ?? 'BACKWARD' });
        const subject = parts[1]!;
        if (req.method === 'GET') {
          const c = compat.get(subject);
          if (c === undefined)
            return fail(
              404,
              40408,
              `Subject '${subject}' does not have subject-level compatibility configured`,
            );
          return send(200, { compatibilityLevel: c });
        }
        if (req.method === 'PUT') {
          compat.set(subject, body.compatibility);
          return send(200, { compatibility: body.compatibility });
        }
      }
      return fail(404, 404, `no route ${req.method} ${url.pathname}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    register: (subject, schema) => registerPlain(subject, { schema, schemaType: 'AVRO', references: [] }),
    subjects: () => [...subjects.keys()],
    requests,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
