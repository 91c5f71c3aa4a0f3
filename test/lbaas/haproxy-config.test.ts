import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { haproxyConfig } from '../../src/lbaas/haproxy-config.ts';
import type { ServiceInstance } from '../../src/model/objects.ts';

const SI: ServiceInstance = {
  kind: 'service-instance',
  uuid: '00000000-0000-5000-8000-000000000000',
  name: 'lb1-haproxy',
  loadBalancer: 'lb1',
  vip: '30.30.30.100',
  vipNetwork: 'default-domain:demo:svc-vn',
  poolNetwork: 'default-domain:demo:svc-vn',
  frontends: [
    {
      listener: 'listener1', protocol: 'HTTP', port: 80, pool: 'pool1', method: 'ROUND_ROBIN',
      monitor: { type: 'HTTP', delay: 5, timeout: 3, maxRetries: 2, urlPath: '/health' },
      backends: [
        { member: 'pool1:30.30.30.10:8080', address: '30.30.30.10', port: 8080, weight: 1, adminState: true },
        { member: 'web b', address: '30.30.30.11', port: 8080, weight: 0, adminState: false },
      ],
    },
    {
      listener: 'listener2', protocol: 'TCP', port: 443, pool: 'pool2', method: 'SOURCE_IP',
      monitor: { type: 'PING', delay: 2, timeout: 1, maxRetries: 3 },
      backends: [{ member: 'm3', address: '30.30.30.12', port: 8443, weight: 5, adminState: true }],
    },
    { listener: 'dns', protocol: 'UDP', port: 53, pool: 'pool3', method: 'LEAST_CONNECTIONS', backends: [] },
  ],
  instances: [
    { compute: 'compute-2', role: 'active', localPreference: 200, vipInterface: 'lb1-haproxy-active-vip', poolAddress: '30.30.30.100' },
    { compute: 'compute-3', role: 'standby', localPreference: 100, vipInterface: 'lb1-haproxy-standby-vip', poolAddress: '30.30.30.100' },
  ],
};

const EXPECTED = `# lb1-haproxy: loadbalancer lb1, VIP 30.30.30.100
global
   daemon
   user nobody
   group nogroup
defaults
   log global
   retries 3
   option redispatch
   timeout connect 5000
   timeout client 50000
   timeout server 50000
listen contrail-config-stats
   bind :5937
   mode http
   stats enable
   stats uri /
   stats auth haproxy:contrail123
frontend listener1
   bind 30.30.30.100:80
   mode http
   default_backend pool1
backend pool1
   mode http
   balance roundrobin
   option httpchk GET /health
   timeout check 3s
   server pool1:30.30.30.10:8080 30.30.30.10:8080 weight 1 check inter 5s fall 2 rise 1
   server web_b 30.30.30.11:8080 weight 0 check inter 5s fall 2 rise 1 disabled
frontend listener2
   bind 30.30.30.100:443
   mode tcp
   default_backend pool2
backend pool2
   mode tcp
   balance source
   timeout check 1s
   server m3 30.30.30.12:8443 weight 5 check inter 2s fall 3 rise 1
# listener dns: UDP port 53 is not proxied (haproxy balances TCP only)
`;

function haproxyAvailable(): boolean {
  return spawnSync('haproxy', ['-v'], { encoding: 'utf8' }).status === 0;
}

describe('haproxy configuration of a service instance', () => {
  it('is the text Contrail generates: global, defaults, stats, a frontend per listener, a backend per pool', () => {
    expect(haproxyConfig(SI)).to.equal(EXPECTED);
  });

  it('passes Debian’s haproxy -c', function () {
    if (!haproxyAvailable()) {
      if (process.env.CI === 'true') throw new Error('haproxy is not installed (CI installs it in .ci/run)');
      this.skip();
    }
    const dir = mkdtempSync(path.join(tmpdir(), 'ecmpsim-haproxy-'));
    try {
      const file = path.join(dir, 'haproxy.cfg');
      writeFileSync(file, haproxyConfig(SI));
      const result = spawnSync('haproxy', ['-c', '-f', file], { encoding: 'utf8' });
      expect(result.status, `${result.stdout}${result.stderr}`).to.equal(0);
      expect(result.stdout).to.contain('Configuration file is valid');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
