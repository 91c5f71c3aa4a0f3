// sameAttributes replaced a JSON.stringify comparison on the RIB's hot path: it must decide exactly as
// the serialised comparison of normalised attributes did.
import { expect } from 'chai';
import fc from 'fast-check';
import { normalizeAttributes, sameAttributes, type PathAttributes } from '../../src/rib/path.ts';

// Small domains, so that equal and nearly equal attribute sets come up often.
const smallList = <T>(values: readonly T[]): fc.Arbitrary<T[]> => fc.array(fc.constantFrom(...values), { maxLength: 2 });

const attributes: fc.Arbitrary<Partial<PathAttributes>> = fc.record(
  {
    localPref: fc.constantFrom(0, 100, 200),
    med: fc.constantFrom(undefined, 0, 100),
    origin: fc.constantFrom('igp' as const, 'incomplete' as const),
    asPath: fc.constantFrom([], [{ type: 'sequence' as const, asns: [64512] }], [{ type: 'sequence' as const, asns: [64512, 65000] }], [{ type: 'set' as const, asns: [64512, 65000] }]),
    opaqueTransitive: fc.constantFrom([], [{ flags: 0xc0, type: 200, value: '0102' }], [{ flags: 0xc0, type: 200, value: '0103' }]),
    sequence: fc.constantFrom(0, 1),
    sticky: fc.boolean(),
    llgrStale: fc.boolean(),
    encapsulations: smallList(['gre', 'udp']),
    virtualNetwork: fc.constantFrom('', 'd:p:vn'),
    vnIndex: fc.constantFrom(0, 5),
    securityGroups: smallList([8000002, 8000003]),
    communities: smallList(['no-export', '64512:100']),
    tags: smallList([1, 2]),
    routeTargets: smallList(['target:64512:1', 'target:64512:2']),
    loadBalance: fc.constantFrom(
      undefined,
      { fields: [], decision: 'field-hash' as const },
      { fields: ['ip-protocol' as const], decision: 'field-hash' as const },
      { fields: ['ip-protocol' as const], decision: 'source-bias' as const },
    ),
    originatorId: fc.constantFrom(undefined, '10.0.0.1'),
    clusterList: smallList(['10.0.0.9']),
    mac: fc.constantFrom('', '02:00:00:00:00:01'),
    feasible: fc.boolean(),
  },
  { requiredKeys: [] },
);

describe('rib/path: attribute equality', () => {
  it('agrees with comparing the serialised normalised attributes', () => {
    const keys = Object.keys(normalizeAttributes()) as (keyof PathAttributes)[];
    fc.assert(
      // y is x with at most one field taken from another draw, so that a single differing field is
      // what decides (two random sets almost always differ in several fields at once).
      fc.property(attributes, attributes, fc.constantFrom(...keys), fc.boolean(), (x, other, key, change) => {
        const y: Partial<PathAttributes> = { ...x };
        if (change) Object.assign(y, { [key]: other[key] });
        const a = normalizeAttributes(x);
        const b = normalizeAttributes(y);
        expect(sameAttributes(a, b)).to.equal(JSON.stringify(a) === JSON.stringify(b));
      }),
      { numRuns: 3000 },
    );
  });

  it('tells lists apart by order and by length', () => {
    const a = normalizeAttributes({ encapsulations: ['gre', 'udp'] });
    expect(sameAttributes(a, normalizeAttributes({ encapsulations: ['udp', 'gre'] }))).to.equal(false);
    expect(sameAttributes(a, normalizeAttributes({ encapsulations: ['gre'] }))).to.equal(false);
    expect(sameAttributes(a, normalizeAttributes({ encapsulations: ['gre', 'udp'] }))).to.equal(true);
  });
});
