/**
 * What the unprivileged daemon may ask of the privileged firewall process (--user): JSON lines, one request
 * each, answered by id. Only operations exist, never commands: set up with an allow list, block or unblock one
 * network, apply a batch, list the kernel's state, remove our objects, close. Every network is re-read from text
 * and must be canonical (no host bits, no other spelling); a block that covers an address of the firewall
 * process's own protected list (the whitelist and the owner's addresses, read as root at start) is refused.
 * A request is executed whole or not at all. Pure: the server (privileged.ts) and client (remote.ts) do the I/O.
 */
import { type Network, NetworkSet, networkText, parseNetwork } from '../policy/network.js';
import type { BlockEntry, KernelState, Operation } from './backend.js';

/** Longer request lines are refused unread: a restore of 20,000 blocks is chunked well below this */
export const MAX_REQUEST_CHARS = 4 * 1024 * 1024;
/** Operations in one `apply` request; the client splits larger batches */
export const MAX_OPS = 20_000;
/** Networks in one allow list */
export const MAX_ALLOW = 50_000;
/** Seconds: about 31,000 years, far beyond any block time, well inside what every backend renders */
export const MAX_TIMEOUT_S = 1e12;
/** Answers (a state listing) may be larger than requests; the client trusts the root side but still bounds them */
export const MAX_ANSWER_CHARS = 256 * 1024 * 1024;

export type Request =
  | { id: number; op: 'setup'; allow: Network[] }
  | { id: number; op: 'block'; entry: BlockEntry }
  | { id: number; op: 'unblock'; net: Network }
  /** reconcile: the server lists the kernel itself and renders against that (it never takes the client's state) */
  | { id: number; op: 'apply'; ops: Operation[]; reconcile: boolean }
  | { id: number; op: 'state' }
  | { id: number; op: 'teardown' }
  | { id: number; op: 'close' };

/** `sent`: the firewall process's count of what the kernel took (batches are made there, not by the client) */
export type Answer = { id: number; ok: true; state?: WireState; sent?: { batches: number; operations: number } } | { id: number | null; ok: false; error: string };

/**
 * A message the server sends unasked: a signal reached the root side (which has no CAP_KILL to pass it on as a
 * signal): stop, or reload the whitelist (SIGHUP)
 */
export interface ServerEvent {
  event: 'stop' | 'reload';
  why: string;
}

export interface WireState {
  present: boolean;
  blocks: { net: string; timeout: number | null }[];
  allow: string[];
  altered?: string;
}

export type Parsed = { ok: true; request: Request } | { ok: false; id: number | null; error: string };

const OPS = ['setup', 'block', 'unblock', 'apply', 'state', 'teardown', 'close'] as const;

class Refusal extends Error {}

/** A network as its canonical text; anything else (another spelling, host bits, /32 written out) is refused. */
export function readNetwork(value: unknown, what = 'net'): Network {
  if (typeof value !== 'string' || value.length > 64) throw new Refusal(`${what}: expected a network as text, got ${preview(value)}`);
  const net = parseNetwork(value);
  if (net === null || networkText(net) !== value) {
    throw new Refusal(`${what}: ${JSON.stringify(value)} is not a canonical network${net ? ` (that would be ${networkText(net)})` : ''}`);
  }
  return net;
}

function readTimeout(value: unknown): number | null {
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_TIMEOUT_S) {
    throw new Refusal(`timeout: expected null (permanent) or seconds in (0, ${MAX_TIMEOUT_S}], got ${preview(value)}`);
  }
  return value;
}

/** A timeout the kernel listed: may be 0 (expiring now) */
function kernelTimeout(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new Refusal(`timeout: ${preview(value)}`);
  return value;
}

function readOperation(value: unknown, i: number): Operation {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Refusal(`ops[${i}]: expected an object`);
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o).sort().join(',');
  if (keys === 'block,timeout') return { op: 'block', entry: { net: readNetwork(o.block, `ops[${i}].block`), timeout: readTimeout(o.timeout) } };
  if (keys === 'unblock') return { op: 'unblock', net: readNetwork(o.unblock, `ops[${i}].unblock`) };
  throw new Refusal(`ops[${i}]: expected {"block": NET, "timeout": S} or {"unblock": NET}, got keys ${JSON.stringify(keys)}`);
}

function only(o: Record<string, unknown>, allowed: string[]): void {
  const extra = Object.keys(o).filter((k) => !allowed.includes(k));
  if (extra.length > 0) throw new Refusal(`unexpected field(s) ${extra.map((k) => JSON.stringify(k)).join(', ')} for ${String(o.op)}`);
}

/** One request line, checked in full. `protect`: networks no block may cover. */
export function parseRequest(line: string, protect: NetworkSet): Parsed {
  if (line.length > MAX_REQUEST_CHARS) return { ok: false, id: null, error: `request longer than ${MAX_REQUEST_CHARS} characters: refused` };
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return { ok: false, id: null, error: `not JSON: ${(error as Error).message}` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, id: null, error: 'expected a JSON object' };
  const o = value as Record<string, unknown>;
  const id = Number.isSafeInteger(o.id) && (o.id as number) >= 0 ? (o.id as number) : null;
  if (id === null) return { ok: false, id: null, error: `id: expected a non-negative integer, got ${preview(o.id)}` };
  try {
    const request = readRequest(id, o);
    refuseProtected(request, protect);
    return { ok: true, request };
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, id, error: error.message };
    throw error;
  }
}

function readRequest(id: number, o: Record<string, unknown>): Request {
  const op = o.op;
  if (typeof op !== 'string' || !(OPS as readonly string[]).includes(op)) throw new Refusal(`op: unknown operation ${preview(op)} (expected ${OPS.join(', ')})`);
  switch (op as (typeof OPS)[number]) {
    case 'setup': {
      only(o, ['id', 'op', 'allow']);
      if (!Array.isArray(o.allow) || o.allow.length > MAX_ALLOW) throw new Refusal(`allow: expected an array of at most ${MAX_ALLOW} networks`);
      return { id, op: 'setup', allow: o.allow.map((n, i) => readNetwork(n, `allow[${i}]`)) };
    }
    case 'block':
      only(o, ['id', 'op', 'net', 'timeout']);
      return { id, op: 'block', entry: { net: readNetwork(o.net), timeout: readTimeout(o.timeout) } };
    case 'unblock':
      only(o, ['id', 'op', 'net']);
      return { id, op: 'unblock', net: readNetwork(o.net) };
    case 'apply': {
      only(o, ['id', 'op', 'ops', 'reconcile']);
      if (!Array.isArray(o.ops) || o.ops.length > MAX_OPS) throw new Refusal(`ops: expected an array of at most ${MAX_OPS} operations`);
      if (typeof o.reconcile !== 'boolean') throw new Refusal('reconcile: expected true or false');
      return { id, op: 'apply', ops: o.ops.map(readOperation), reconcile: o.reconcile };
    }
    default:
      only(o, ['id', 'op']);
      return { id, op } as Request;
  }
}

/** A block that would catch a protected address is refused, and the whole request with it. */
function refuseProtected(request: Request, protect: NetworkSet): void {
  const blocks = request.op === 'block' ? [request.entry] : request.op === 'apply' ? request.ops.flatMap((o) => (o.op === 'block' ? [o.entry] : [])) : [];
  for (const { net } of blocks) {
    if (protect.intersects(net)) throw new Refusal(`refused: a block of ${networkText(net)} covers an address the firewall process protects (whitelist or owner, as read at start)`);
  }
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 80)}...` : text;
}

// The client side's encoding: the same canonical texts the server reads back.

export function encodeRequest(request: Request): string {
  switch (request.op) {
    case 'setup':
      return JSON.stringify({ id: request.id, op: 'setup', allow: request.allow.map(networkText) });
    case 'block':
      return JSON.stringify({ id: request.id, op: 'block', net: networkText(request.entry.net), timeout: request.entry.timeout });
    case 'unblock':
      return JSON.stringify({ id: request.id, op: 'unblock', net: networkText(request.net) });
    case 'apply':
      return JSON.stringify({
        id: request.id,
        op: 'apply',
        ops: request.ops.map((o) => (o.op === 'block' ? { block: networkText(o.entry.net), timeout: o.entry.timeout } : { unblock: networkText(o.net) })),
        reconcile: request.reconcile,
      });
    default:
      return JSON.stringify({ id: request.id, op: request.op });
  }
}

export function encodeState(state: KernelState): WireState {
  return {
    present: state.present,
    blocks: state.blocks.map((b) => ({ net: networkText(b.net), timeout: b.timeout })),
    allow: state.allow.map(networkText),
    ...(state.altered === undefined ? {} : { altered: state.altered }),
  };
}

/** The server's listing back as a KernelState; throws on anything malformed (the root side is trusted, not blindly). */
export function decodeState(wire: WireState): KernelState {
  try {
    return {
      present: wire.present === true,
      blocks: wire.blocks.map((b) => ({ net: readNetwork(b.net), timeout: b.timeout === null ? null : kernelTimeout(b.timeout) })),
      allow: wire.allow.map((n) => readNetwork(n)),
      ...(typeof wire.altered === 'string' ? { altered: wire.altered } : {}),
    };
  } catch (error) {
    throw new Error(`the firewall process answered a malformed state: ${(error as Error).message}`);
  }
}
