/**
 * sshguard's LOGREADER is a shell command; Debian's and sshguard's own examples run journalctl
 * (`LANG=C journalctl -afb -p info -n1 -t sshd -o cat`). Such a plain journalctl command is read natively instead
 * (JSON, resumable cursor, journald's trusted fields): this recognises it and keeps what it selects.
 */

export interface JournalSelection {
  identifiers: string[];
  units: string[];
}

/** journalctl options that take no value, and that change nothing when read natively */
const FLAGS = new Set(['a', 'f', 'b', 'q', 'l', 'm']);
const LONG_FLAGS = new Set(['--all', '--follow', '--boot', '--quiet', '--no-pager', '--no-hostname', '--full', '--merge']);
/** journalctl options that take a value: -t and -u select entries; -p, -n and -o only shape its output */
const WITH_VALUE: Record<string, 'identifier' | 'unit' | 'ignored'> = { t: 'identifier', u: 'unit', p: 'ignored', n: 'ignored', o: 'ignored' };
const LONG_WITH_VALUE: Record<string, 'identifier' | 'unit' | 'ignored'> = {
  '--identifier': 'identifier',
  '--unit': 'unit',
  '--priority': 'ignored',
  '--lines': 'ignored',
  '--output': 'ignored',
};

/** Characters that make the command more than one plain program call: it is run through the shell as given. */
const SHELL = /[|;&$`'"()<>\\*?{}[\]~!#\n]/;

/**
 * The identifiers and units a plain journalctl LOGREADER selects (with `sshd-session` added where `sshd` is
 * named: OpenSSH >= 9.8 logs under that tag), or null when the command is anything else.
 */
export function journalFromLogreader(command: string): JournalSelection | null {
  if (SHELL.test(command)) return null;
  const words = command.trim().split(/\s+/);
  let i = 0;
  // Leading VAR=value assignments (LANG=C) only set the environment
  while (i < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i])) i++;
  if (i >= words.length || !/^(?:\/(?:usr\/)?bin\/)?journalctl$/.test(words[i])) return null;
  const selection: JournalSelection = { identifiers: [], units: [] };
  const keep = (what: 'identifier' | 'unit' | 'ignored', value: string | undefined): boolean => {
    if (value === undefined || value === '') return false;
    if (what === 'identifier') selection.identifiers.push(value);
    if (what === 'unit') selection.units.push(value);
    return true;
  };
  for (i++; i < words.length; i++) {
    const word = words[i];
    if (LONG_FLAGS.has(word)) continue;
    if (word.startsWith('--')) {
      const eq = word.indexOf('=');
      const what = LONG_WITH_VALUE[eq < 0 ? word : word.slice(0, eq)];
      if (!what) return null;
      if (!keep(what, eq < 0 ? words[++i] : word.slice(eq + 1))) return null;
      continue;
    }
    if (!word.startsWith('-') || word.length < 2) return null;
    // Short options, possibly grouped (-afb), the last one possibly taking the rest or the next word (-n1, -t sshd)
    for (let j = 1; j < word.length; j++) {
      const letter = word[j];
      if (FLAGS.has(letter)) continue;
      const what = WITH_VALUE[letter];
      if (!what) return null;
      if (!keep(what, j + 1 < word.length ? word.slice(j + 1) : words[++i])) return null;
      break;
    }
  }
  if (selection.identifiers.includes('sshd') && !selection.identifiers.includes('sshd-session')) {
    selection.identifiers.push('sshd-session');
  }
  return selection;
}
