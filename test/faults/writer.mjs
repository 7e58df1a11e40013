// The log writer of the rotation torture (test/faults/torture.ts): numbered lines through one descriptor opened
// for appending, reopened when the parent says so (logrotate's postrotate HUP). argv: PATH FORMAT PER_TICK TICK_MS
import { closeSync, openSync, writeSync } from 'node:fs';

const [path, format, perTick, tickMs] = process.argv.slice(2);
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n) => String(n).padStart(2, '0');

function line(n) {
  if (format === 'plain') return `line ${n} ${'x'.repeat(n % 61)}\n`;
  const d = new Date();
  const stamp = `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  const addr = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
  return `${stamp} server sshd[${10000 + (n % 50000)}]: Failed password for root from ${addr} port ${1024 + (n % 60000)} ssh2\n`;
}

let fd = openSync(path, 'a');
let written = 0;
const timer = setInterval(() => {
  let text = '';
  for (let i = 0; i < Number(perTick); i++) text += line(written++);
  writeSync(fd, text);
}, Number(tickMs));

process.on('message', (command) => {
  if (command === 'reopen') {
    closeSync(fd);
    fd = openSync(path, 'a');
  } else if (command === 'stop') {
    clearInterval(timer);
    closeSync(fd);
    process.send({ written }, () => process.exit(0));
    return;
  }
  process.send({ written });
});
