/**
 * A small typed client for the few routes of CrowdSec's Local API that logwarden uses, on Node's own http and
 * https (they take a CA for the LAPI's certificate, which Node's fetch cannot without another package): as a
 * log processor ("watcher": JWT from POST /v1/watchers/login, renewed before it expires) it posts alerts and
 * deletes decisions; as a bouncer (X-Api-Key) it follows the decision stream.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';

export interface LapiDecision {
  id: number;
  origin: string;
  type: string;
  scope: string;
  value: string;
  /** Go's duration text: "3h59m58.5s", negative when over */
  duration: string;
  scenario: string;
}

export interface LapiMeta {
  key: string;
  value: string;
}

/** An alert as POST /v1/alerts takes it */
export interface LapiAlert {
  scenario: string;
  scenario_hash: string;
  scenario_version: string;
  message: string;
  events_count: number;
  start_at: string;
  stop_at: string;
  capacity: number;
  leakspeed: string;
  simulated: boolean;
  events: { timestamp: string; meta: LapiMeta[] }[];
  source: { scope: string; value: string; ip?: string; range?: string };
  decisions: Omit<LapiDecision, 'id'>[];
}

export interface LapiStream {
  new: LapiDecision[];
  deleted: LapiDecision[];
}

/** A client certificate and its private key, PEM */
export interface ClientCert {
  cert: string;
  key: string;
}

export interface LapiClientOptions {
  /** e.g. http://127.0.0.1:8080 (the /v1 routes are added) */
  url: string;
  machine?: { id: string; password: string } | null;
  bouncerKey?: string | null;
  /** Client certificates (PEM) for the LAPI's TLS authentication, instead of the password or the key */
  machineCert?: ClientCert | null;
  bouncerCert?: ClientCert | null;
  /** PEM certificates the LAPI's https certificate must chain to (instead of the system's CAs) */
  ca?: string | null;
  /** ms per request (default 10 s) */
  timeoutMs?: number;
  /** The JWT is renewed this long before it expires (ms, default 5 min) */
  renewBeforeMs?: number;
  now?: () => number;
}

/** CrowdSec 1.4.6 refuses a login whose user agent is not NAME/VERSION ("incorrect Username or Password") */
const USER_AGENT = `logwarden/${(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version}`;

/** The LAPI answered with an error status. */
export class LapiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** The LAPI could not be reached (refused, reset, timed out): worth retrying. */
export class LapiUnreachable extends Error {}

export class LapiClient {
  private token: string | null = null;
  /** ms */
  private tokenExpires = 0;
  private readonly base: string;
  private readonly now: () => number;
  /** How many times a token was obtained (first login and renewals) */
  logins = 0;

  private readonly exchange: ReturnType<typeof exchangeWith>;

  constructor(private readonly options: LapiClientOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.now = options.now ?? Date.now;
    this.exchange = exchangeWith(options.ca ?? null, options.timeoutMs ?? 10_000);
  }

  get url(): string {
    return this.base;
  }

  /** POST /v1/watchers/login: a new JWT. */
  async login(): Promise<void> {
    const { machine, machineCert } = this.options;
    if (!machine && !machineCert) throw new Error('no machine credentials (--lapi-machine, --lapi-password or --lapi-machine-cert) for pushing to the LAPI');
    // with a certificate the LAPI names the machine itself (CN@address) and reads no credentials
    const json = machine ? { machine_id: machine.id, password: machine.password } : {};
    const body = (await this.request('POST', '/v1/watchers/login', { json, cert: machineCert })) as {
      token?: string;
      expire?: string;
    };
    if (typeof body.token !== 'string') throw new LapiError('the LAPI login answered without a token', 200);
    const expires = Date.parse(body.expire ?? '');
    // without a readable expiry, CrowdSec's default lifetime (1 h) is assumed
    this.tokenExpires = Number.isFinite(expires) ? expires : this.now() + 3_600_000;
    this.token = body.token;
    this.logins++;
  }

  /** The token's expiry (ms), 0 before the first login. */
  get tokenExpiresAt(): number {
    return this.tokenExpires;
  }

  private async jwt(): Promise<string> {
    if (this.token === null || this.now() >= this.tokenExpires - (this.options.renewBeforeMs ?? 300_000)) await this.login();
    return this.token!;
  }

  /** A watcher request; a 401 (token revoked, LAPI restarted with a new secret) logs in once more. */
  private async asWatcher(method: string, path: string, json?: unknown): Promise<unknown> {
    try {
      return await this.request(method, path, { json, auth: `Bearer ${await this.jwt()}`, cert: this.options.machineCert });
    } catch (error) {
      if (!(error instanceof LapiError) || error.status !== 401) throw error;
      await this.login();
      return this.request(method, path, { json, auth: `Bearer ${this.token}`, cert: this.options.machineCert });
    }
  }

  /** POST /v1/alerts: the ids of the alerts created. */
  async pushAlerts(alerts: readonly LapiAlert[]): Promise<number[]> {
    const ids = (await this.asWatcher('POST', '/v1/alerts', alerts)) as unknown[];
    return ids.map(Number);
  }

  /** GET /v1/alerts/ID: the decisions of one alert (with their ids). */
  async alertDecisions(alertId: number): Promise<LapiDecision[]> {
    const alert = (await this.asWatcher('GET', `/v1/alerts/${alertId}`)) as { decisions?: LapiDecision[] | null };
    return alert.decisions ?? [];
  }

  /** DELETE /v1/decisions/ID: false when the LAPI no longer has it (expired or deleted by someone). */
  async deleteDecision(id: number): Promise<boolean> {
    try {
      const body = (await this.asWatcher('DELETE', `/v1/decisions/${id}`)) as { nbDeleted?: string | number } | null;
      return Number(body?.nbDeleted ?? 1) > 0;
    } catch (error) {
      // 1.4.6 answers 500 "decision with id 'N' doesn't exist"
      if (error instanceof LapiError && /doesn't exist|not found/i.test(error.message)) return false;
      throw error;
    }
  }

  /** GET /v1/decisions/stream: everything (startup) or what changed since this bouncer's last call. */
  async stream(startup: boolean): Promise<LapiStream> {
    const { bouncerKey, bouncerCert } = this.options;
    if (!bouncerKey && !bouncerCert) throw new Error('no bouncer key (--lapi-key or --lapi-bouncer-cert) for following the LAPI decision stream');
    const body = (await this.request('GET', `/v1/decisions/stream${startup ? '?startup=true' : ''}`, { apiKey: bouncerKey ?? undefined, cert: bouncerCert })) as Partial<LapiStream>;
    return { new: body.new ?? [], deleted: body.deleted ?? [] };
  }

  private async request(method: string, path: string, how: { json?: unknown; auth?: string; apiKey?: string; cert?: ClientCert | null }): Promise<unknown> {
    const headers: Record<string, string> = { 'user-agent': USER_AGENT };
    if (how.json !== undefined) headers['content-type'] = 'application/json';
    if (how.auth) headers.authorization = how.auth;
    if (how.apiKey) headers['x-api-key'] = how.apiKey;
    let response: { status: number; text: string };
    try {
      response = await this.exchange(method, this.base + path, headers, how.json === undefined ? undefined : JSON.stringify(how.json), how.cert ?? null);
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      throw new LapiUnreachable(`${method} ${this.base}${path}: ${e.code ?? e.message}`);
    }
    const { text } = response;
    if (response.status < 200 || response.status > 299) {
      let message = text.slice(0, 300);
      try {
        message = String((JSON.parse(text) as { message?: string }).message ?? message);
      } catch {
        // not JSON: the text as it came
      }
      throw new LapiError(`${method} ${path}: ${response.status} ${message}`, response.status);
    }
    if (text === '') return null;
    try {
      return JSON.parse(text);
    } catch {
      throw new LapiError(`${method} ${path}: the answer is not JSON: ${text.slice(0, 100)}`, response.status);
    }
  }
}

/** One HTTP exchange: the status and the body's text; rejects when there is no answer (refused, timed out, TLS). */
function exchangeWith(ca: string | null, timeoutMs: number) {
  return (method: string, url: string, headers: Record<string, string>, body: string | undefined, cert: ClientCert | null): Promise<{ status: number; text: string }> =>
    new Promise((resolve, reject) => {
      const target = new URL(url);
      const options: https.RequestOptions = { method, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) } };
      if (ca !== null) options.ca = ca;
      if (cert !== null) Object.assign(options, { cert: cert.cert, key: cert.key });
      const request = (target.protocol === 'https:' ? https : http).request(target, options, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      });
      request.setTimeout(timeoutMs, () => request.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      request.on('error', reject);
      request.end(body);
    });
}

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, 'µs': 0.001, ns: 0.000001 };

/** Go's time.Duration text ("1h2m3.5s", "-90.3ms") in ms; null when it is not one. */
export function parseGoDuration(text: string): number | null {
  const m = /^(-?)((?:\d+(?:\.\d+)?(?:h|ms|us|µs|ns|m|s))+)$/.exec(text.trim());
  if (m === null) return text.trim() === '0' ? 0 : null;
  let ms = 0;
  for (const part of m[2].matchAll(/(\d+(?:\.\d+)?)(h|ms|us|µs|ns|m|s)/g)) ms += Number(part[1]) * UNIT_MS[part[2]];
  return m[1] === '-' ? -ms : ms;
}
