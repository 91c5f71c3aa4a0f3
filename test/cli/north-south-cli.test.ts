// The north-south verbs against `ecmpsim up topologies/north-south.json`: a gateway's table, outside
// traffic through it, scaling a shared VIP, and one-line refusals.
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { ecmpsim, startUp, stopUp } from './support/run-cli.ts';

describe('ecmpsim CLI: north-south verbs', function () {
  this.timeout(60_000);
  let up: ChildProcess;
  let api: string;

  before(async () => {
    ({ up, api } = await startUp('topologies/north-south.json'));
    for (let i = 0; i < 100; i++) {
      const r = await ecmpsim(['--api', api, 'gateway-routes', 'gw-1']);
      if (r.stdout.includes('10.1.11.9/32  2 path(s)')) break;
      await new Promise((res) => setTimeout(res, 100));
    }
  });

  after(async () => {
    if (up) await stopUp(up);
  });

  it('shows the gateway in the node list and its table with one path per member compute', async () => {
    expect((await ecmpsim(['--api', api, 'nodes'])).stdout).to.match(/gw-1\s+│ gateway/);
    const routes = await ecmpsim(['--api', api, 'gateway-routes', 'gw-1']);
    expect(routes.stdout).to.include('10.1.11.9/32  2 path(s)');
    expect(routes.stdout).to.match(/127\.4\.20\.2\s+label \d+\s+rd 127\.4\.20\.2:\d+/);
  });

  it('sends outside clients through the gateway and scales the shared VIP', async () => {
    const traffic = await ecmpsim(['--api', api, 'traffic', '--from', 'gw-1', '--to', '10.1.11.9:80', '--count', '200', '--sources', '10']);
    expect(traffic.code).to.equal(0);
    expect(traffic.stdout).to.include('200/200 delivered');
    expect(traffic.stdout).to.include('compute-2/web-a');
    const scaled = await ecmpsim(['--api', api, 'shared-vip-set', 'vs2-vip', '--ports', 'avi-se-czpey,avi-se-pnjbb']);
    expect(scaled.stdout).to.equal('instance-ip vs2-vip is on avi-se-czpey, avi-se-pnjbb\n');
    expect((await ecmpsim(['--api', api, 'gateway-hash', 'gw-1', 'resilient'])).stdout).to.equal('gw-1: hash resilient\n');
  });

  it('refuses bad input with one line and a non-zero exit', async () => {
    const mode = await ecmpsim(['--api', api, 'gateway-hash', 'gw-1', 'random']);
    expect(mode.code).to.not.equal(0);
    expect(mode.stderr.trim()).to.equal('ecmpsim: mode must be one of stateless, resilient');
    const share = await ecmpsim(['--api', api, 'shared-vip-set', 'web-a', '--ports', 'web-a,web-b']);
    expect(share.code).to.not.equal(0);
    expect(share.stderr.trim().split('\n')).to.have.length(1);
    expect(share.stderr).to.include('needs mode active-active');
  });
});
