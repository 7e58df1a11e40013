import { describe, expect, it } from 'vitest';
import { escapeLabelValue, Registry } from '../../src/metrics/registry.js';
import { parseListenAddress } from '../../src/metrics/server.js';

describe('Prometheus text format', () => {
  it('writes HELP and TYPE lines, then the samples, for counters, gauges and histograms', () => {
    const r = new Registry();
    const c = r.counter('demo_events_total', 'Events seen');
    c.inc({ rule: 'ssh-x', service: 'OpenSSH' });
    c.inc({ rule: 'ssh-x', service: 'OpenSSH' }, 2);
    r.read('gauge', 'demo_lag_bytes', 'Lag', () => [{ labels: { source: '/var/log/auth.log' }, value: 12 }]);
    r.read('gauge', 'demo_up', 'Up', () => 1);
    const h = r.histogram('demo_seconds', 'Time', [0.001, 0.01]);
    h.observe(0.0005);
    h.observe(0.005);
    h.observe(5);
    expect(r.text()).toBe(
      [
        '# HELP demo_events_total Events seen',
        '# TYPE demo_events_total counter',
        'demo_events_total{rule="ssh-x",service="OpenSSH"} 3',
        '# HELP demo_lag_bytes Lag',
        '# TYPE demo_lag_bytes gauge',
        'demo_lag_bytes{source="/var/log/auth.log"} 12',
        '# HELP demo_up Up',
        '# TYPE demo_up gauge',
        'demo_up 1',
        '# HELP demo_seconds Time',
        '# TYPE demo_seconds histogram',
        'demo_seconds_bucket{le="0.001"} 1',
        'demo_seconds_bucket{le="0.01"} 2',
        'demo_seconds_bucket{le="+Inf"} 3',
        'demo_seconds_sum 5.0055',
        'demo_seconds_count 3',
        '',
      ].join('\n'),
    );
  });

  it('escapes backslashes, double quotes and line feeds in label values, and in HELP text', () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    const r = new Registry();
    r.read('gauge', 'demo_g', 'two\nlines \\ here', () => [{ labels: { source: 'x"y\n' }, value: 1 }]);
    expect(r.text()).toContain('# HELP demo_g two\\nlines \\\\ here\n');
    expect(r.text()).toContain('demo_g{source="x\\"y\\n"} 1\n');
  });

  it('refuses a counter not named _total, bad names, label names, decreasing buckets and a name declared twice', () => {
    const r = new Registry();
    expect(() => r.counter('demo_events', 'x')).toThrow(/_total/);
    expect(() => r.read('gauge', 'demo-bad', 'x', () => 1)).toThrow(/invalid metric name/);
    expect(() => r.histogram('demo_h', 'x', [1, 0.5])).toThrow(/increase/);
    r.read('gauge', 'demo_once', 'x', () => 1);
    expect(() => r.read('gauge', 'demo_once', 'x', () => 1)).toThrow(/twice/);
    const c = r.counter('demo_c_total', 'x');
    expect(() => c.inc({ 'bad-label': 'v' })).toThrow(/label name/);
    expect(() => c.inc({}, -1)).toThrow(/cannot add/);
  });

  it('leaves out, with a comment, a family whose values cannot be read', () => {
    const r = new Registry();
    r.read('gauge', 'demo_broken', 'x', () => {
      throw new Error('not yet');
    });
    r.read('gauge', 'demo_fine', 'y', () => 2);
    expect(r.text()).toBe('# demo_broken: not available (not yet)\n# HELP demo_fine y\n# TYPE demo_fine gauge\ndemo_fine 2\n');
  });
});

describe('--metrics ADDR:PORT', () => {
  it('takes an IPv4 address, or an IPv6 one in brackets, and a port', () => {
    expect(parseListenAddress('127.0.0.1:9150')).toEqual({ host: '127.0.0.1', port: 9150 });
    expect(parseListenAddress('[::1]:9150')).toEqual({ host: '::1', port: 9150 });
    expect(parseListenAddress('[2001:db8::1]:0')).toEqual({ host: '2001:db8::1', port: 0 });
  });

  it('refuses anything else with a reason', () => {
    for (const bad of ['9150', ':9150', '::1:9150', 'localhost:9150', '127.0.0.1', '127.0.0.1:99999', '300.1.1.1:80', '[127.0.0.1]:80', '[::1]', '127.0.0.1:80 ']) {
      expect(parseListenAddress(bad), bad).toEqual(expect.any(String));
    }
  });
});
