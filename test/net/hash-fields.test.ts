import { expect } from 'chai';
import { MAX_ECMP_MEMBERS } from '../../src/net/ecmp.ts';
import { HASH_FIELDS, isHashField, parseHashFields } from '../../src/net/hash-fields.ts';
import { LOAD_BALANCE_FIELDS, hashFieldOf, loadBalanceFieldOf } from '../../src/xmpp/route-entry.ts';

describe('net/hash-fields', () => {
  it('names the five fields of the 5-tuple in canonical order', () => {
    expect(HASH_FIELDS).to.deep.equal(['source-ip', 'destination-ip', 'ip-protocol', 'source-port', 'destination-port']);
  });

  it('recognises only those names', () => {
    expect(HASH_FIELDS.every(isHashField)).to.equal(true);
    expect(['l3-source-address', 'SOURCE-IP', '', 3, null].some(isHashField)).to.equal(false);
  });

  it('parses a list into canonical order without repeats, or names the bad field', () => {
    expect(parseHashFields(['source-port', 'source-ip', 'source-ip'])).to.deep.equal(['source-ip', 'source-port']);
    expect(parseHashFields(['source-ip', 'src-ip'])).to.match(/^"src-ip" is not a hash field \(one of source-ip, /);
  });

  it('XMPP maps each field to its load-balance wire name and back, one to one', () => {
    expect(HASH_FIELDS.map(loadBalanceFieldOf)).to.deep.equal([...LOAD_BALANCE_FIELDS]);
    expect(LOAD_BALANCE_FIELDS.map(hashFieldOf)).to.deep.equal([...HASH_FIELDS]);
  });
});

describe('net/ecmp', () => {
  it('a composite next-hop holds at most 128 members', () => {
    expect(MAX_ECMP_MEMBERS).to.equal(128);
  });
});
