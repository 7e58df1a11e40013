/**
 * A real CrowdSec Local API for tests: Debian's crowdsec 1.4.6 unpacked (fetch-crowdsec.sh), started alone
 * (`crowdsec -no-cs`) with its config, SQLite database and credentials in the test's own temporary folder, on a
 * free port. `cscli` acts as another member of the fleet.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CROWDSEC_DIR = process.env.LOGWARDEN_CROWDSEC_DIR ?? join(tmpdir(), 'logwarden-crowdsec');
const BIN = join(CROWDSEC_DIR, 'usr/bin');

/** Unpacks crowdsec if needed; null when it is there, else why the tests must skip. */
export function crowdsecMissing(): string | null {
  if (existsSync(join(BIN, 'crowdsec')) && existsSync(join(BIN, 'cscli'))) return null;
  const script = join(import.meta.dirname, 'fetch-crowdsec.sh');
  const r = spawnSync(script, [CROWDSEC_DIR], { encoding: 'utf8', timeout: 120_000 });
  if (r.status === 0 && existsSync(join(BIN, 'crowdsec'))) return null;
  return `crowdsec could not be unpacked into ${CROWDSEC_DIR} (${(r.stderr || r.error?.message || `exit ${r.status}`).trim().slice(0, 200)}): run test/fleet/fetch-crowdsec.sh ${CROWDSEC_DIR}`;
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export class Lapi {
  readonly dir: string;
  readonly config: string;
  private child: ChildProcess | null = null;
  private output = '';

  private constructor(
    readonly host: string,
    readonly port: number,
    /** Words that run a command in the LAPI's network namespace (none: this one) */
    private readonly prefix: string[],
    /** PEM files of the LAPI's https certificate and key, and the CA of client certificates; null: plain http */
    private readonly tls: { cert: string; key: string; clientCa?: string } | null = null,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'logwarden-lapi-'));
    this.config = join(this.dir, 'config.yaml');
    const d = this.dir;
    mkdirSync(join(d, 'data'));
    mkdirSync(join(d, 'hub'));
    writeFileSync(join(d, 'hub/.index.json'), '{}');
    writeFileSync(join(d, 'simulation.yaml'), 'simulation: false\n');
    writeFileSync(join(d, 'profiles.yaml'), readFileSync(join(CROWDSEC_DIR, 'etc/crowdsec/profiles.yaml')));
    writeFileSync(join(d, 'local_api_credentials.yaml'), `url: ${this.url}\n`);
    writeFileSync(
      this.config,
      `common:
  daemonize: false
  log_media: stdout
  log_level: info
  working_dir: .
config_paths:
  config_dir: ${d}/
  data_dir: ${d}/data/
  simulation_path: ${d}/simulation.yaml
  hub_dir: ${d}/hub/
  index_path: ${d}/hub/.index.json
  notification_dir: ${d}/notifications/
  plugin_dir: ${d}/plugins/
db_config:
  log_level: warning
  type: sqlite
  db_path: ${d}/data/crowdsec.db
api:
  client:
    credentials_path: ${d}/local_api_credentials.yaml
    insecure_skip_verify: ${tls ? 'true' : 'false'}
  server:
    log_level: warning
    listen_uri: ${host}:${port}${tls ? `\n    tls:\n      cert_file: ${tls.cert}\n      key_file: ${tls.key}` : ''}${tls?.clientCa ? `\n      client_verification: VerifyClientCertIfGiven\n      ca_cert_path: ${tls.clientCa}\n      agents_allowed_ou:\n        - agent-ou\n      bouncers_allowed_ou:\n        - bouncer-ou` : ''}
    profiles_path: ${d}/profiles.yaml
    trusted_ips:
      - 127.0.0.1
      - ::1
prometheus:
  enabled: false
`,
    );
  }

  get url(): string {
    return `${this.tls ? 'https' : 'http'}://${this.host}:${this.port}`;
  }

  /**
   * A LAPI on a free port of `host`, started, with cscli's own machine. With a `prefix` (ip netns exec NS), it runs
   * in that namespace, on port 8081 of `host`, and so does cscli.
   */
  static async start(host = '127.0.0.1', prefix: string[] = [], tls: { cert: string; key: string; clientCa?: string } | null = null): Promise<Lapi> {
    const lapi = new Lapi(host, prefix.length > 0 ? 8081 : await freePort(host), prefix, tls);
    await lapi.run();
    lapi.cscli('machines', 'add', 'cscli-tests', '-p', 'cscli-tests-password', '-f', join(lapi.dir, 'local_api_credentials.yaml'), '-u', lapi.url);
    return lapi;
  }

  /** Starts the LAPI process (again, after stop: same port, same database). */
  async run(): Promise<void> {
    this.output = '';
    const argv = [...this.prefix, join(BIN, 'crowdsec'), '-c', this.config, '-no-cs'];
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child = child;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`crowdsec exited with ${child.exitCode}: ${this.output.slice(-500)}`);
      // crowdsec says so just before it listens: a connection tells
      if (this.output.includes('Local API listening') && this.accepts()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`the LAPI did not start on ${this.url} within 15 s: ${this.output.slice(-500)}`);
  }

  /** Whether the LAPI's port takes a TCP connection (tried from its namespace). */
  private accepts(): boolean {
    const script = `require('net').connect(${this.port}, ${JSON.stringify(this.host)}).on('connect', () => process.exit(0)).on('error', () => process.exit(1))`;
    const argv = [...this.prefix, process.execPath, '-e', script];
    return spawnSync(argv[0], argv.slice(1), { timeout: 5000 }).status === 0;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child === null || child.exitCode !== null) return;
    this.child = null;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  cscli(...args: string[]): string {
    const argv = [...this.prefix, join(BIN, 'cscli'), '-c', this.config, ...args];
    return execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  addMachine(id: string, password: string): void {
    this.cscli('machines', 'add', id, '-p', password, '-f', join(this.dir, `credentials-${id}.yaml`), '-u', this.url);
  }

  addBouncer(name: string, key: string): void {
    this.cscli('bouncers', 'add', name, '-k', key);
  }

  /** Every decision the LAPI holds (all origins), as cscli lists them. */
  decisions(): { id: number; origin: string; scope: string; value: string; scenario: string; duration: string; type: string }[] {
    const alerts = JSON.parse(this.cscli('decisions', 'list', '-a', '-o', 'json') || 'null') as { decisions: never[] }[] | null;
    return (alerts ?? []).flatMap((a) => a.decisions);
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
