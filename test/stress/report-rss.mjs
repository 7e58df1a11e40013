// Preloaded into a logwarden process by the stress tests: reports its peak RSS on exit.
process.on('exit', () => process.stderr.write(`\nmaxRSS=${process.resourceUsage().maxRSS}\n`));
