import { expect } from 'chai';
import { ownString } from '../../src/net/own-string.ts';

describe('net/own-string', () => {
  it('returns an equal string at every length, cut from a larger text or not', () => {
    const text = `<item id="${'0123456789abcdef'.repeat(4)}">`;
    for (let length = 0; length <= 40; length++) {
      const cut = text.slice(5, 5 + length);
      expect(ownString(cut)).to.equal(cut);
      expect(ownString(cut).length).to.equal(length);
    }
    expect(ownString('10.100.200.31/32')).to.equal('10.100.200.31/32');
  });
});
