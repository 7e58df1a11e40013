/**
 * Where the engine puts what it learns: evidence lines, changed offenders and block decisions. The daemon keeps
 * them in the store (windows hold small evidence ids); a dry run keeps nothing but the lines the windows hold.
 */
import type { Network } from '../policy/network.js';
import type { BlockDecision, Evidence, LineRef, Offender } from '../policy/policy.js';
import type { EvidenceRow, Store } from '../store/store.js';

export interface EvidenceLog {
  /** What a window keeps for this line: an id of the row about to be recorded, or the line itself */
  reference(read: LineRef): Evidence;
  /** The lines of a block's window, in order, the triggering line being `read` (referenced as `ref`) */
  linesOf(refs: readonly Evidence[], ref: Evidence, read: LineRef): LineRef[];
  record(row: EvidenceRow): void;
  offenderChanged(o: Offender): void;
  offendersForgotten(keys: readonly string[]): void;
  blockDecided(block: BlockDecision, lines: string[]): void;
  /** Blocks whose time is over at `now` are marked so */
  expire(now: number): void;
  /** Whether rows are kept at all (a dry run need not build them) */
  readonly keepsRows: boolean;
}

/** `audit`: nothing is written anywhere; windows keep their own lines. */
export const linesInWindows: EvidenceLog = {
  keepsRows: false,
  // a copy, so the line does not keep alive the whole chunk it was cut from (V8 substrings share their parent)
  reference: (read) => ({ line: ` ${read.line}`.slice(1), source: read.source, lineNo: read.lineNo }),
  linesOf: (refs) => refs as LineRef[],
  record: () => {},
  offenderChanged: () => {},
  offendersForgotten: () => {},
  blockDecided: () => {},
  expire: () => {},
};

/** The daemon's: everything goes to the store's write queue, committed with the positions of the lines. */
export function storeEvidence(store: Store, simulated = false): EvidenceLog {
  return {
    keepsRows: true,
    reference: () => store.reserveEvidenceId(),
    linesOf(refs, ref, read) {
      // the store's rows keep their source and line: a block's reason keeps the lines
      const earlier = store.evidenceLines(refs.filter((r) => r !== ref) as number[]).map((line) => ({ line, source: '', lineNo: null }));
      return refs.includes(ref) ? [...earlier, read] : earlier;
    },
    record: (row) => store.addEvidence(row),
    offenderChanged: (o) => store.touchOffender(o),
    offendersForgotten: (keys) => store.forgetOffenders(keys),
    blockDecided(b, lines) {
      const net: Network = b.net;
      store.addBlock(net, b.at, b.permanent ? null : b.until, 'policy', {
        score: b.score,
        attacks: b.attacks,
        services: b.services,
        rules: b.rules,
        evidence: lines,
        ...(simulated ? { text: 'dry run: not applied' } : {}),
      }, { simulated });
    },
    expire: (now) => {
      store.expireBlocks(now);
    },
  };
}
