// The local interface table: validation into usable form, replacement by name, label bookkeeping, and the
// /32 routes an interface installs.
import { expect } from 'chai';
import { InterfaceTable, localLabelProblem, localRoutesOf, type LocalInterfaceSpec } from '../../src/vrouter/interfaces.ts';
import { VrfTable } from '../../src/vrouter/vrfs.ts';

const VRF = 'vn:vn';
const FIP_VRF = 'public:public';

const spec = (over: Partial<LocalInterfaceSpec> = {}): LocalInterfaceSpec => ({
  name: 'web-0', vrf: VRF, ip: '30.30.30.10', mac: '', label: 17, virtualNetwork: 'vn', floatingIps: [], ...over,
});

function add(t: InterfaceTable, vrfs: VrfTable<unknown>, s: LocalInterfaceSpec) {
  const fips = t.validate(s, vrfs, () => undefined);
  if (typeof fips === 'string') throw new Error(fips);
  return t.put(s, fips, vrfs.id(s.vrf));
}

describe('vrouter/interfaces', () => {
  it('says what is wrong with a spec, one problem at a time', () => {
    const t = new InterfaceTable();
    const vrfs = new VrfTable<unknown>('compute-1');
    add(t, vrfs, spec());
    const problems: [LocalInterfaceSpec, string][] = [
      [spec({ name: '' }), 'name must be a non-empty string'],
      [spec({ ip: '30.30.30.300' }), 'ip 30.30.30.300 is not an IPv4 address'],
      [spec({ label: 15 }), 'label 15 must be 16..1048575 (0-15 are reserved, MPLS labels are 20 bits)'],
      [spec({ name: 'web-1', label: 17 }), 'label 17 is already used by interface web-0'],
      [spec({ hashFields: ['source-ip', 'colour' as 'source-ip'] }), 'hashFields has an unknown field'],
      [spec({ floatingIps: [{ address: '30.30.30.100', vrf: VRF, virtualNetwork: 'vn', portMappingsEnable: false, portMappings: [], direction: 'sideways' as 'both' }] }),
        'floatingIps[0].direction sideways is not ingress, egress or both'],
    ];
    for (const [s, problem] of problems) expect(t.validate(s, vrfs, () => undefined)).to.equal(problem);
    expect(t.validate(spec({ name: 'web-1', label: 40 }), vrfs, (label) => (label === 40 ? '30.30.30.100/32' : undefined)))
      .to.equal('label 40 is already used by the local composite for 30.30.30.100/32');
    expect(localLabelProblem(16)).to.equal(undefined);
    expect(localLabelProblem(0xfffff)).to.equal(undefined);
  });

  it('replaces an interface by name under the same id and frees its old label', () => {
    const t = new InterfaceTable();
    const vrfs = new VrfTable<unknown>('compute-1');
    const first = add(t, vrfs, spec());
    const second = add(t, vrfs, spec({ label: 18 }));
    expect(second.id).to.equal(first.id);
    expect([...t.byLabel.keys()]).to.deep.equal([18]);
    expect(t.names()).to.deep.equal(['web-0']);
    t.delete(second);
    expect(t.byId.size + t.byName.size + t.byLabel.size).to.equal(0);
  });

  it('installs its own /32 and one per ingress floating-ip, in the floating-ip VRF', () => {
    const t = new InterfaceTable();
    const vrfs = new VrfTable<unknown>('compute-1');
    const fip = (address: string, direction: 'ingress' | 'egress' | 'both') => ({
      address, vrf: FIP_VRF, virtualNetwork: 'public', portMappingsEnable: false, portMappings: [], direction,
    });
    const ifc = add(t, vrfs, spec({ floatingIps: [fip('10.0.0.1', 'ingress'), fip('10.0.0.2', 'egress'), fip('10.0.0.3', 'both')] }));
    expect([...localRoutesOf(ifc).values()]).to.deep.equal([[VRF, 0x1e1e1e0a], [FIP_VRF, 0x0a000001], [FIP_VRF, 0x0a000003]]);
    const fipVrf = vrfs.idOf(FIP_VRF);
    expect(ifc.fips.map((f) => [f.vrfId, f.ingress])).to.deep.equal([[fipVrf, true], [fipVrf, false], [fipVrf, true]]);
    expect(ifc.vrfId).to.equal(vrfs.idOf(VRF)).and.not.equal(fipVrf);
  });
});
