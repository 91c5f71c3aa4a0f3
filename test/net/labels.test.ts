import { expect } from 'chai';
import {
  MPLS_AGENT_LABEL_MIN, MPLS_LABEL_MAX, MPLS_LABEL_MIN, ROUTE_LABEL_MAX, isAgentLabel, isMplsLabel, parseAgentLabel,
} from '../../src/net/labels.ts';

describe('net/labels', () => {
  it('an MPLS label is 20 bits; agents start at 16', () => {
    expect([MPLS_LABEL_MIN, MPLS_LABEL_MAX, MPLS_AGENT_LABEL_MIN]).to.deep.equal([0, 1_048_575, 16]);
    expect(ROUTE_LABEL_MAX).to.equal(0xffffff);
  });

  it('bounds of an MPLS label', () => {
    expect([0, 15, 16, 0xfffff].map(isMplsLabel)).to.deep.equal([true, true, true, true]);
    expect([-1, 0x100000, 1.5, '16', NaN, undefined].map(isMplsLabel)).to.deep.equal([false, false, false, false, false, false]);
  });

  it('bounds of a label an agent allocates', () => {
    expect([16, 17, 0xfffff].map(isAgentLabel)).to.deep.equal([true, true, true]);
    expect([0, 3, 15, 0x100000].map(isAgentLabel)).to.deep.equal([false, false, false, false]);
    expect(parseAgentLabel(16)).to.equal(16);
    expect(parseAgentLabel(15)).to.equal('label 15 must be 16..1048575 (0-15 are reserved, MPLS labels are 20 bits)');
    expect(parseAgentLabel(0x100000)).to.equal('label 1048576 must be 16..1048575 (0-15 are reserved, MPLS labels are 20 bits)');
  });
});
