// A client of the Confluent Schema Registry REST API (Confluent, Karapace, Redpanda, Apicurio's ccompat API):
// only the calls kafka-backup needs. node:http(s) rather than fetch, because fetch takes no CA of our own.
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { SchemaRegistryConfig } from '../config/index.ts';
import { ConfigError, SchemaRegistryAccessError } from '../errors.ts';

export interface SchemaReference {
  name: string;
  subject: string;
  version: number;
}

/** One version of a subject, as the registry returns it. */
export interface SubjectVersion {
  subject: string;
  version: number;
  id: number;
  /** AVRO when the registry leaves it out (its default). */
  schemaType: string;
  schema: string;
  references: SchemaReference[];
}

export interface SchemaText {
  schemaType: string;
  schema: string;
  references: SchemaReference[];
}

/**
 * An answer other than 2xx: HTTP status and Confluent's `error_code` (40401 subject not found, 42205 operation not
 * permitted, 409 incompatible, ...). A user error: what the registry said is what a person acts on.
 */
export class RegistryHttpError extends SchemaRegistryAccessError {
  readonly status: number;
  readonly errorCode: number | undefined;
  readonly detail: string;
  constructor(status: number, errorCode: number | undefined, detail: string, what: string) {
    super(
      `the Schema Registry refused to ${what}: HTTP ${status}${errorCode !== undefined ? ` (error ${errorCode})` : ''}: ${detail}`,
      { hint: "Check the subject's compatibility and mode on the registry, or what its message names." },
    );
    this.status = status;
    this.errorCode = errorCode;
    this.detail = detail;
  }
}

const MEDIA_TYPE = 'application/vnd.schemaregistry.v1+json';

export class SchemaRegistryClient {
  readonly url: string;
  readonly #config: SchemaRegistryConfig;
  readonly #field: string;
  #ca: string | undefined;

  /** `field` names the config section in messages (`schema_registry`). */
  constructor(config: SchemaRegistryConfig, field = 'schema_registry') {
    this.#config = config;
    this.#field = field;
    this.url = config.url.replace(/\/+$/, '');
  }

  #caPem(): string | undefined {
    const path = this.#config.ssl_ca_location;
    if (path === undefined) return undefined;
    if (this.#ca === undefined) {
      try {
        this.#ca = readFileSync(path, 'utf8');
      } catch (e) {
        throw new ConfigError(
          `${this.#field}.ssl_ca_location: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
          { hint: 'Point it at a readable PEM file.' },
        );
      }
    }
    return this.#ca;
  }

  #authorization(): string | undefined {
    const c = this.#config;
    if (c.basic_auth)
      return `Basic ${Buffer.from(`${c.basic_auth.username}:${c.basic_auth.password}`).toString('base64')}`;
    if (c.bearer) return `Bearer ${c.bearer.token}`;
    return undefined;
  }

  /** One request; resolves with the parsed JSON body, rejects with RegistryHttpError or an access error. */
  async call<T>(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    what: string,
    body?: unknown,
  ): Promise<T> {
    const target = new URL(this.url + path);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const auth = this.#authorization();
    const headers: Record<string, string> = {
      accept: `${MEDIA_TYPE}, application/json`,
      ...(payload ? { 'content-type': MEDIA_TYPE, 'content-length': String(payload.length) } : {}),
      ...(auth ? { authorization: auth } : {}),
    };
    const ca = this.#caPem();
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = send(
        target,
        { method, headers, timeout: this.#config.request_timeout_ms, ...(ca ? { ca } : {}) },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () =>
        req.destroy(new Error(`no answer within ${this.#config.request_timeout_ms} ms`)),
      );
      req.on('error', reject);
      req.end(payload);
    }).catch((e: unknown) => {
      throw new SchemaRegistryAccessError(
        `cannot reach the Schema Registry at ${this.url} (${what}): ${(e as Error).message}`,
        {
          hint: `Check ${this.#field}.url, the network path and, for https, ${this.#field}.ssl_ca_location.`,
        },
      );
    });
    let json: unknown;
    try {
      json = text === '' ? null : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (status >= 200 && status < 300) return json as T;
    const err = (json ?? {}) as { error_code?: number; message?: string };
    const detail = typeof err.message === 'string' ? err.message : text.slice(0, 200);
    if (status === 401 || status === 403) {
      throw new SchemaRegistryAccessError(
        `the Schema Registry at ${this.url} refused ${what} (HTTP ${status}): ${detail}`,
        {
          hint: `Check ${this.#field}.basic_auth or ${this.#field}.bearer, and that this identity may ${method === 'GET' ? 'read' : 'write'} subjects.`,
        },
      );
    }
    throw new RegistryHttpError(status, err.error_code, detail, `${what} at ${this.url}`);
  }

  /** A call whose 404 means "none": resolves undefined then. */
  async #maybe<T>(
    method: 'GET' | 'POST',
    path: string,
    what: string,
    body?: unknown,
  ): Promise<T | undefined> {
    try {
      return await this.call<T>(method, path, what, body);
    } catch (e) {
      if (e instanceof RegistryHttpError && e.status === 404) return undefined;
      throw e;
    }
  }

  async subjects(): Promise<string[]> {
    return (await this.call<string[]>('GET', '/subjects', 'list subjects')).sort();
  }

  async versions(subject: string): Promise<number[]> {
    return this.call<number[]>('GET', `/subjects/${enc(subject)}/versions`, `list versions of ${subject}`);
  }

  async version(subject: string, version: number): Promise<SubjectVersion> {
    const v = await this.call<Partial<SubjectVersion>>(
      'GET',
      `/subjects/${enc(subject)}/versions/${version}`,
      `read ${subject} version ${version}`,
    );
    return {
      subject,
      version: v.version ?? version,
      id: Number(v.id),
      schemaType: v.schemaType ?? 'AVRO',
      schema: String(v.schema),
      references: v.references ?? [],
    };
  }

  /** The compatibility level set on the subject itself (null when it follows the global one). */
  async subjectCompatibility(subject: string): Promise<string | null> {
    const c = await this.#maybe<{ compatibilityLevel?: string; compatibility?: string }>(
      'GET',
      `/config/${enc(subject)}?defaultToGlobal=false`,
      `read compatibility of ${subject}`,
    );
    return c?.compatibilityLevel ?? c?.compatibility ?? null;
  }

  async globalCompatibility(): Promise<string | null> {
    const c = await this.#maybe<{ compatibilityLevel?: string; compatibility?: string }>(
      'GET',
      '/config',
      'read global compatibility',
    );
    return c?.compatibilityLevel ?? c?.compatibility ?? null;
  }

  /** The mode set on the subject itself (null when it follows the global one or the registry has no modes). */
  async subjectMode(subject: string): Promise<string | null> {
    try {
      const m = await this.#maybe<{ mode?: string }>(
        'GET',
        `/mode/${enc(subject)}?defaultToGlobal=false`,
        `read mode of ${subject}`,
      );
      return m?.mode ?? null;
    } catch (e) {
      if (e instanceof RegistryHttpError && e.status >= 400 && e.status < 500) return null;
      throw e;
    }
  }

  async globalMode(): Promise<string | null> {
    try {
      return (await this.#maybe<{ mode?: string }>('GET', '/mode', 'read global mode'))?.mode ?? null;
    } catch (e) {
      if (e instanceof RegistryHttpError && e.status >= 400 && e.status < 500) return null;
      throw e;
    }
  }

  async schemaById(id: number): Promise<SchemaText | undefined> {
    const s = await this.#maybe<Partial<SchemaText>>('GET', `/schemas/ids/${id}`, `read schema id ${id}`);
    return s === undefined
      ? undefined
      : { schemaType: s.schemaType ?? 'AVRO', schema: String(s.schema), references: s.references ?? [] };
  }

  /** The version of `subject` holding exactly this schema, if any (POST /subjects/{subject}). */
  async lookup(subject: string, s: SchemaText): Promise<{ id: number; version: number } | undefined> {
    const found = await this.#maybe<{ id: number; version: number }>(
      'POST',
      `/subjects/${enc(subject)}`,
      `look up a schema under ${subject}`,
      body(s),
    );
    return found ? { id: Number(found.id), version: Number(found.version) } : undefined;
  }

  /** Registers a schema; with `id` (and `version`) as an import, which the subject's mode must allow. */
  async register(subject: string, s: SchemaText, at?: { id: number; version: number }): Promise<number> {
    const r = await this.call<{ id: number }>(
      'POST',
      `/subjects/${enc(subject)}/versions`,
      `register a schema under ${subject}`,
      { ...body(s), ...(at ? { id: at.id, version: at.version } : {}) },
    );
    return Number(r.id);
  }

  async setSubjectMode(subject: string, mode: string, force = false): Promise<void> {
    await this.call('PUT', `/mode/${enc(subject)}${force ? '?force=true' : ''}`, `set mode of ${subject}`, {
      mode,
    });
  }

  async deleteSubjectMode(subject: string): Promise<void> {
    await this.call('DELETE', `/mode/${enc(subject)}`, `reset mode of ${subject}`);
  }

  async setSubjectCompatibility(subject: string, level: string): Promise<void> {
    await this.call('PUT', `/config/${enc(subject)}`, `set compatibility of ${subject}`, {
      compatibility: level,
    });
  }
}

function enc(subject: string): string {
  return encodeURIComponent(subject);
}

function body(s: SchemaText) {
  return {
    schema: s.schema,
    ...(s.schemaType !== 'AVRO' ? { schemaType: s.schemaType } : {}),
    ...(s.references.length > 0 ? { references: s.references } : {}),
  };
}
