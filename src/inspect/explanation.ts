/**
 * `explain`'s answer, from facts gathered elsewhere (store, whitelist, live firewall): a verdict first, then the
 * story (blocks, score and penalty, evidence) and who else blocks the address. Pure: the same facts and `now`
 * give the same answer, as text (render.ts) or JSON.
 */
import type { AddressKind } from '../parse/address.js';
import { type Network, networkText } from '../policy/network.js';
import { blockDuration, decayedLevel, FORGET_LEVEL, type PolicyConfig } from '../policy/policy.js';
import type { WhitelistSource } from '../policy/whitelist.js';
import type { AllowEntry, BlockRow, EvidenceRow, FleetDecisionRow, FleetDecisionState } from '../store/store.js';
import type { OffenderRow } from '../store/queries.js';
import { type Finding, liftCommand } from './finding.js';
import type { FirewallReport } from './inspect.js';

export interface ExplainFacts {
  addr: string;
  kind: AddressKind;
  now: number;
  policy: PolicyConfig;
  /** The store read, or null when there is none yet */
  db: string | null;
  /** The entry of the configured whitelist (files, -w, loopback) that holds the address */
  whitelisted: WhitelistSource | null;
  /** The entry of the store's allow list (what the daemon keeps in the kernel) that holds it */
  allowed: AllowEntry | null;
  blocks: BlockRow[];
  offenders: OffenderRow[];
  /** Every evidence row of the address kept, newest first */
  evidence: EvidenceRow[];
  /** How many to show (null: all) */
  evidenceLimit: number | null;
  lastTrust: EvidenceRow | null;
  /** The fleet's decisions (CrowdSec LAPI) that cover the address, as the daemon recorded them */
  fleet: FleetDecisionRow[];
  /** The store's daemon runs (or ran last) as a dry run: its fleet decisions were recorded, never applied */
  dryRun: boolean;
  firewall: FirewallReport;
  /** Words of the logwarden command line that reach the same store and firewall (--db, --backend, ...) */
  commandPrefix: string;
  /** The whitelist file to suggest */
  whitelistFile: string;
}

export type VerdictState = 'blocked' | 'blocked-by-prefix' | 'blocked-by-fleet' | 'blocked-elsewhere' | 'whitelisted' | 'trusted' | 'not-blocked';

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null || !Number.isFinite(ms) ? null : iso(ms));

export interface BlockStory {
  key: string;
  prefix: boolean;
  start: string;
  until: string | null;
  permanent: boolean;
  seconds: number | null;
  origin: string;
  state: string;
  /** Over and not yet marked so in the store: its kernel timeout has lifted it */
  active: boolean;
  endedAt: string | null;
  simulated: boolean;
  score: number | null;
  attacks: number | null;
  /** The first attack of the window that led to it, when its evidence is still kept */
  firstAttack: string | null;
  rules: string[];
  services: number[];
  reason: string | null;
  evidence: string[];
}

/** A fleet decision covering the address, and what it does here */
export interface FleetStory {
  decision: number;
  network: string;
  origin: string;
  scenario: string;
  until: string;
  /** applied here, refused (detail says why), or own (this host's block coming back from the LAPI) */
  state: FleetDecisionState;
  detail: string;
  /** It drops the address here: applied, and nothing of the allow list keeps the address reachable */
  blocks: boolean;
  /** The whitelist or allow entry that keeps the address reachable in spite of it, or null */
  keptBy: string | null;
  text: string;
}

export interface ScoreStory {
  key: string;
  score: number;
  threshold: number;
  windowAttacks: number;
  /** When the open window ends (its score is dropped then); null when no window is open */
  windowEnds: string | null;
  /** Penalty level decayed to now, and the level and time it was set */
  level: number;
  levelHalvesAt: string | null;
  forgottenAt: string | null;
  nextBlockSeconds: number | null;
  nextBlockPermanent: boolean;
  blocks: number;
  attacks: number;
  firstSeen: string;
  lastSeen: string;
}

export interface Explanation {
  address: string;
  kind: AddressKind;
  at: string;
  verdict: { state: VerdictState; text: string; until: string | null; permanent: boolean; by: string | null };
  /** The commands that lift what blocks it (logwarden's, and other tools') */
  lift: string[];
  /** How to keep logwarden from blocking it again */
  prevent: string | null;
  /** Whether logwarden's store knows anything of the address */
  known: boolean;
  db: string | null;
  whitelist: { entry: string; source: string; line: number | null; hostname: string | null } | null;
  allowList: { network: string; origin: string; detail: string } | null;
  trust: { grantedAt: string; until: string; active: boolean } | null;
  blocks: BlockStory[];
  fleet: FleetStory[];
  score: ScoreStory | null;
  evidence: {
    kept: number;
    shown: number;
    attacks: number;
    unscored: number;
    lines: { time: string; source: string; line: number | null; event: string; rule: string; danger: number; outcome: string; text: string }[];
  };
  firewall: FirewallReport & { blocking: number };
  /** Exit status: 1 when something blocks the address (logwarden or anything in the firewall), else 0 */
  blocked: boolean;
}

function isActive(b: BlockRow, now: number): boolean {
  return b.state === 'active' && (b.expires === null || b.expires > now);
}

function storyOf(b: BlockRow, facts: ExplainFacts): BlockStory {
  const window = facts.policy.detectionTime * 1000;
  const first = facts.evidence
    .filter((e) => e.event === 'attack' && e.time <= b.start && e.time >= b.start - window)
    .reduce<number | null>((min, e) => (min === null || e.time < min ? e.time : min), null);
  return {
    key: b.key,
    prefix: b.cidr !== (b.kind === 4 ? 32 : 128),
    start: iso(b.start),
    until: isoOrNull(b.expires),
    permanent: b.expires === null,
    seconds: b.expires === null ? null : Math.round((b.expires - b.start) / 1000),
    origin: b.origin,
    state: b.state === 'active' && !isActive(b, facts.now) ? 'expired' : b.state,
    active: isActive(b, facts.now),
    endedAt: isoOrNull(b.endedAt ?? (b.state === 'active' && !isActive(b, facts.now) ? b.expires : null)),
    simulated: b.simulated,
    score: b.reason.score ?? null,
    attacks: b.reason.attacks ?? null,
    firstAttack: b.origin === 'policy' || b.origin === 'blacklist' ? isoOrNull(first) : null,
    rules: b.reason.rules ?? [],
    services: b.reason.services ?? [],
    reason: b.reason.text ?? null,
    evidence: b.reason.evidence ?? [],
  };
}

function scoreOf(o: OffenderRow, facts: ExplainFacts): ScoreStory {
  const { policy, now } = facts;
  const windowMs = policy.detectionTime * 1000;
  const open = o.score > 0 && now - o.windowStart <= windowMs;
  const level = decayedLevel(o, now, policy);
  const halfLifeMs = policy.penaltyHalfLife * 1000;
  const forgottenAt = o.level > FORGET_LEVEL ? o.levelAt + halfLifeMs * Math.log2(o.level / FORGET_LEVEL) : null;
  const permanent = policy.blacklistThreshold !== null && o.blockedDanger + policy.threshold >= policy.blacklistThreshold;
  return {
    key: o.key,
    score: open ? o.score : 0,
    threshold: policy.threshold,
    windowAttacks: open ? o.windowAttacks : 0,
    windowEnds: open ? iso(o.windowStart + windowMs) : null,
    level,
    levelHalvesAt: level > 0 ? iso(now + halfLifeMs) : null,
    forgottenAt: isoOrNull(forgottenAt),
    nextBlockSeconds: permanent ? null : blockDuration(level, policy),
    nextBlockPermanent: permanent,
    blocks: o.blocks,
    attacks: o.attacks,
    firstSeen: iso(o.firstSeen),
    lastSeen: iso(o.lastSeen),
  };
}

/** The entry that keeps the address reachable, named as a person finds it: FILE:LINE, -w ADDR, the owner's address. */
function keeperOf(facts: ExplainFacts): string | null {
  const wl = facts.whitelisted;
  if (wl) {
    if (wl.line !== undefined) return `the whitelist entry ${wl.source.replace(/ \(.*\)$/, '')}:${wl.line}${wl.hostname ? ` (${wl.hostname})` : ''}`;
    return `the whitelist entry ${wl.source === '-w' ? `-w ${networkText(wl.net)}` : wl.source}`;
  }
  const a = facts.allowed;
  if (a === null) return null;
  if (a.origin === 'config') return `the whitelist entry ${a.detail}`;
  if (a.origin === 'owner') return `the owner's address ${networkText(a.net)} (${a.detail})`;
  return `the allow list entry ${networkText(a.net)} (${a.origin}: ${a.detail})`;
}

function fleetStoryOf(d: FleetDecisionRow, keeper: string | null, dryRun: boolean): FleetStory {
  const until = iso(d.until);
  const what = `decision ${d.id} from origin ${d.origin} (scenario ${d.scenario}), until ${until}`;
  const blocks = d.state === 'applied' && keeper === null && !dryRun;
  let text: string;
  if (d.state === 'applied' && keeper === null && dryRun) text = `a fleet decision covers it, not applied (dry run): ${what}`;
  else if (d.state === 'own') text = `${what} is this host's own block, pushed to the fleet (${d.detail})`;
  else if (keeper !== null) text = `a fleet decision covers it but ${keeper} keeps it reachable: ${what}`;
  else if (d.state === 'applied') text = `blocked by the fleet: ${what}`;
  else text = `a fleet decision covers it but was not applied: ${what}; ${d.detail}`;
  return { decision: d.id, network: d.key, origin: d.origin, scenario: d.scenario, until, state: d.state, detail: d.detail, blocks, keptBy: d.state === 'own' ? null : keeper, text };
}

function whereOf(f: Finding): string {
  const parts = [f.table && `table ${f.table}`, f.chain && `chain ${f.chain}`, f.set && `set ${f.set}`].filter(Boolean);
  return `${f.tool === 'other' ? 'a rule of no known tool' : f.tool} (${f.source}: ${parts.join(', ')})`;
}

export function explainAddress(facts: ExplainFacts): Explanation {
  const { addr, now, policy } = facts;
  const blocks = facts.blocks.map((b) => storyOf(b, facts));
  const active = facts.blocks.filter((b) => !b.simulated && isActive(b, now));
  // the address's own block first, else the smallest prefix holding it
  const ours = active.sort((a, b) => b.cidr - a.cidr)[0] ?? null;
  const elsewhere = facts.firewall.findings.filter((f) => f.blocks && f.tool !== 'logwarden');
  const ourKernel = facts.firewall.findings.filter((f) => f.blocks && f.tool === 'logwarden');
  const trust = facts.lastTrust && {
    grantedAt: iso(facts.lastTrust.time),
    until: iso(facts.lastTrust.time + policy.trustTime * 1000),
    active: facts.lastTrust.time + policy.trustTime * 1000 > now,
  };
  const wl = facts.whitelisted;
  const whitelistText = wl ? `${networkText(wl.net)} (${wl.source}${wl.line !== undefined ? ` line ${wl.line}` : ''})` : facts.allowed ? `${networkText(facts.allowed.net)} (${facts.allowed.origin}: ${facts.allowed.detail})` : null;
  const keeper = keeperOf(facts);
  const fleet = facts.fleet.filter((d) => d.until > now).map((d) => fleetStoryOf(d, keeper, facts.dryRun));
  // the address's own decision first, then the one that ends last
  const byFleet = fleet.filter((f) => f.blocks).sort((a, b) => (b.network === addr ? 1 : 0) - (a.network === addr ? 1 : 0) || Date.parse(b.until) - Date.parse(a.until))[0] ?? null;
  const lift: string[] = [];
  let verdict: Explanation['verdict'];
  if (ours) {
    const key = networkText(ours as Network);
    const until = ours.expires === null ? 'permanently' : `until ${iso(ours.expires)}`;
    const prefix = ours.key !== addr;
    verdict = {
      state: prefix ? 'blocked-by-prefix' : 'blocked',
      text: prefix ? `${addr} is blocked as part of ${key} ${until} (by logwarden, ${ours.origin})` : `${addr} is blocked ${until} (by logwarden, ${ours.origin})`,
      until: isoOrNull(ours.expires),
      permanent: ours.expires === null,
      by: 'logwarden',
    };
    lift.push(`${facts.commandPrefix} unblock ${key}`);
  } else if (byFleet) {
    verdict = { state: 'blocked-by-fleet', text: `${addr} is ${byFleet.text}`, until: byFleet.until, permanent: false, by: 'fleet' };
  } else if (elsewhere.length > 0 || ourKernel.length > 0) {
    const first = elsewhere[0] ?? ourKernel[0];
    verdict = {
      state: 'blocked-elsewhere',
      text: `${addr} is blocked in the firewall by ${whereOf(first)}${elsewhere.length + ourKernel.length > 1 ? ` and ${elsewhere.length + ourKernel.length - 1} more` : ''}; logwarden's store has no active block of it`,
      until: first.expiresIn === null ? null : iso(now + first.expiresIn * 1000),
      permanent: first.expiresIn === null,
      by: first.tool,
    };
  } else if (whitelistText) {
    verdict = { state: 'whitelisted', text: `${addr} is whitelisted by ${whitelistText}: logwarden never blocks it`, until: null, permanent: false, by: null };
  } else if (trust?.active) {
    verdict = {
      state: 'trusted',
      text: `${addr} is trusted until ${trust.until} (successful login at ${trust.grantedAt}): its attacks are not scored`,
      until: trust.until,
      permanent: false,
      by: null,
    };
  } else {
    verdict = { state: 'not-blocked', text: `${addr} is not blocked`, until: null, permanent: false, by: null };
  }
  // deleting a decision from the LAPI lifts it on every host of the fleet
  for (const f of fleet) if (f.blocks) lift.push(`cscli decisions delete --id ${f.decision}`);
  // the kernel's element of a fleet block is ours: lifted with its decision
  for (const f of [...elsewhere, ...(ours || byFleet ? [] : ourKernel)]) {
    const command = liftCommand(f, addr);
    if (!lift.includes(command)) lift.push(command);
  }
  const blocked = ours !== null || byFleet !== null || elsewhere.length > 0 || ourKernel.length > 0;
  const attacks = facts.evidence.filter((e) => e.event === 'attack');
  const shown = facts.evidenceLimit === null ? facts.evidence : facts.evidence.slice(0, facts.evidenceLimit);
  return {
    address: addr,
    kind: facts.kind,
    at: iso(now),
    verdict,
    lift,
    prevent:
      (ours !== null || byFleet !== null || ourKernel.length > 0) && !whitelistText
        ? `to keep logwarden from blocking it again, add the line "${addr}" to ${facts.whitelistFile}`
        : null,
    known: facts.blocks.length > 0 || facts.offenders.length > 0 || facts.evidence.length > 0,
    db: facts.db,
    whitelist: wl ? { entry: networkText(wl.net), source: wl.source, line: wl.line ?? null, hostname: wl.hostname ?? null } : null,
    allowList: facts.allowed ? { network: networkText(facts.allowed.net), origin: facts.allowed.origin, detail: facts.allowed.detail } : null,
    trust,
    blocks,
    fleet,
    score: facts.offenders.length > 0 ? scoreOf(facts.offenders[0], facts) : null,
    evidence: {
      kept: facts.evidence.length,
      shown: shown.length,
      attacks: attacks.length,
      unscored: attacks.filter((e) => e.outcome === 'whitelisted' || e.outcome === 'trusted').length,
      lines: shown.map((e) => ({
        time: iso(e.time),
        source: e.source,
        line: e.lineNo,
        event: e.event,
        rule: e.rule,
        danger: e.danger,
        outcome: e.outcome,
        text: e.line,
      })),
    },
    firewall: { ...facts.firewall, blocking: facts.firewall.findings.filter((f) => f.blocks).length },
    blocked,
  };
}
