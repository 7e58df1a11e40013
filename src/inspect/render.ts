/** `explain`'s answer as text for a person: the verdict in one line, then the story, then the firewall. */
import type { Explanation } from './explanation.js';
import { liftCommand } from './finding.js';

function duration(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} days`;
}

const span = (from: string, to: string) => duration(Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000)));

export function renderExplanation(e: Explanation): string {
  const out: string[] = [e.verdict.text];
  for (const command of e.lift) out.push(`  lift it: ${command}`);
  if (e.prevent) out.push(`  ${e.prevent}`);
  out.push('');
  if (e.db === null) out.push('logwarden has no store yet: it has never recorded anything.');
  else if (!e.known) out.push(`logwarden has never seen ${e.address} (store ${e.db}).`);
  if (e.whitelist && e.verdict.state !== 'whitelisted') {
    out.push(`whitelisted by ${e.whitelist.entry} (${e.whitelist.source}${e.whitelist.line === null ? '' : ` line ${e.whitelist.line}`}): logwarden does not block it`);
  }
  if (e.allowList && !e.whitelist) out.push(`in the allow list the daemon keeps in the kernel: ${e.allowList.network} (${e.allowList.origin}: ${e.allowList.detail})`);
  if (e.trust && e.verdict.state !== 'trusted') {
    out.push(`last successful login ${e.trust.grantedAt}: trusted ${e.trust.active ? 'until' : 'until (over)'} ${e.trust.until}`);
  }
  if (e.blocks.length > 0) {
    out.push(`Blocks (${e.blocks.length}, newest first):`);
    for (const b of e.blocks) {
      const length = b.permanent ? 'permanent' : `${duration(b.seconds ?? 0)}, until ${b.until}`;
      const state = b.active ? 'ACTIVE' : `${b.state}${b.endedAt ? ` ${b.endedAt}` : ''}`;
      out.push(`  ${b.start}  ${b.key}${b.prefix ? ' (prefix)' : ''}  ${length}  ${b.origin}${b.simulated ? ' SIMULATED (dry run, never applied)' : ''}  [${state}]`);
      const why: string[] = [];
      if (b.score !== null) why.push(`score ${b.score}`);
      if (b.attacks !== null) why.push(`${b.attacks} attack(s)${b.firstAttack ? ` over ${span(b.firstAttack, b.start)} (from ${b.firstAttack})` : ''}`);
      if (b.rules.length > 0) why.push(`rules ${b.rules.join(', ')}`);
      if (b.reason) why.push(b.reason);
      if (why.length > 0) out.push(`    why: ${why.join('; ')}`);
      for (const line of b.evidence.slice(0, 5)) out.push(`    | ${line}`);
      if (b.evidence.length > 5) out.push(`    | ... ${b.evidence.length - 5} more line(s)`);
    }
  }
  if (e.fleet.length > 0) {
    out.push(`Fleet decisions (CrowdSec LAPI, ${e.fleet.length}):`);
    for (const f of e.fleet) out.push(`  ${f.text}`);
  }
  if (e.score) {
    const s = e.score;
    out.push(`Score (key ${s.key}): ${s.score} of ${s.threshold} to block${s.windowEnds ? `, ${s.windowAttacks} attack(s) in the window; it drops to 0 at ${s.windowEnds}` : ' (no open window)'}`);
    const next = s.nextBlockPermanent ? 'permanent (blacklist threshold reached)' : duration(s.nextBlockSeconds ?? 0);
    out.push(
      `  penalty level ${s.level.toFixed(2)}${s.levelHalvesAt ? ` (half of it by ${s.levelHalvesAt}${s.forgottenAt ? `; forgotten from ${s.forgottenAt}` : ''})` : ''}; a next block would last ${next}`,
    );
    out.push(`  ${s.attacks} attack(s) and ${s.blocks} block(s) since ${s.firstSeen}; last seen ${s.lastSeen}`);
  }
  const ev = e.evidence;
  if (ev.kept > 0) {
    const unscored = ev.unscored > 0 ? `; ${ev.unscored} not scored (whitelisted or trusted)` : '';
    const own = e.whitelist && ev.attacks > 0 ? `; this whitelisted address made ${ev.attacks} attack(s)` : '';
    out.push(`Evidence (${ev.shown} of ${ev.kept} kept, newest first${ev.shown < ev.kept ? '; --all for every one' : ''}${unscored}${own}):`);
    for (const l of ev.lines) {
      out.push(`  ${l.time}  ${l.source}${l.line === null ? '' : `:${l.line}`}  ${l.event === 'login' ? 'login' : l.rule} (${l.outcome})`);
      out.push(`    | ${l.text}`);
    }
  }
  out.push('');
  const fw = e.firewall;
  if (fw.findings.length === 0) out.push(`Firewall: nothing matches ${e.address}.`);
  else out.push(`Firewall: ${fw.findings.length} match(es) for ${e.address}, ${fw.blocking} blocking it:`);
  for (const f of fw.findings) {
    const where = [f.table && `table ${f.table}`, f.chain && `chain ${f.chain}`, f.set && `set ${f.set}`].filter(Boolean).join(', ');
    const what = f.blocks ? f.verdict.toUpperCase() : f.unreached ? `${f.verdict.toUpperCase()}, never reached: ${f.unreached}` : f.shadowedBy ? `${f.verdict.toUpperCase()}, never reached: an earlier rule lets it through (${f.shadowedBy})` : f.verdict === 'other' && f.rule === null ? 'no rule uses this set' : f.verdict === 'jump' ? `jumps to ${f.target}` : f.verdict;
    out.push(`  ${f.tool === 'other' ? 'other (hand-written?)' : f.tool}: ${f.source}: ${where}: ${f.matched}${f.expiresIn !== null ? ` (${duration(f.expiresIn)} left)` : ''} -> ${what}`);
    if (f.rule) out.push(`    rule: ${f.rule}`);
    if (f.blocks) out.push(`    lift: ${liftCommand(f, e.address)}`);
  }
  out.push(`  read: ${fw.read.join(', ') || 'nothing'}`);
  for (const s of fw.skipped) out.push(`  skipped: ${s.command} (${s.reason})`);
  return `${out.join('\n')}\n`;
}
