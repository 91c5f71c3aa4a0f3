import { expect } from 'chai';
import { IPv4CidrRange } from 'ip-num';

describe('toolchain', () => {
  it('loads ip-num under tsx', () => {
    expect(IPv4CidrRange.fromCidr('30.30.30.0/24').getSize().toString()).to.equal('256');
  });
});
