import { expect } from 'chai';
import fc from 'fast-check';
import { parsePublishNode } from '../../src/xmpp/stanza-decoder.ts';

// docs/protocol.md §3.2 read off the node's slash-separated parts, the plain way: parsePublishNode scans slash positions
// instead and must agree with this on every input, errors included.
function byParts(node: string): ReturnType<typeof parsePublishNode> {
  const parts = node.split('/');
  if (parts.length !== 5 && parts.length !== 6) {
    return { error: `publish node ${JSON.stringify(node)}: expected <afi>/<safi>/<instance>/<prefix>/<plen>` };
  }
  if (!/^\d+$/.test(parts[0]) || !/^\d+$/.test(parts[1])) return { error: `publish node ${JSON.stringify(node)}: afi/safi must be integers` };
  if (parts[2] === '') return { error: `publish node ${JSON.stringify(node)}: empty instance` };
  return { afi: Number(parts[0]), safi: Number(parts[1]), instance: parts[2], prefix: `${parts[3]}/${parts[4]}` };
}

describe('xmpp/publish node (docs/protocol.md §3.2)', () => {
  it('splits afi, safi, instance and prefix, with or without the primary instance id', () => {
    const instance = 'default-domain:p:vn:vn';
    expect(parsePublishNode(`1/1/${instance}/10.0.0.1/32`)).to.deep.equal({ afi: 1, safi: 1, instance, prefix: '10.0.0.1/32' });
    expect(parsePublishNode(`1/4/${instance}/10.0.0.0/24/7`)).to.deep.equal({ afi: 1, safi: 4, instance, prefix: '10.0.0.0/24' });
  });

  it('rejects a wrong part count, non-integer afi/safi and an empty instance', () => {
    expect(parsePublishNode('1/1/vn/10.0.0.1')).to.have.property('error').that.includes('expected <afi>/<safi>');
    expect(parsePublishNode('1/1/vn/10.0.0.1/32/7/8')).to.have.property('error').that.includes('expected <afi>/<safi>');
    expect(parsePublishNode('1/x/vn/10.0.0.1/32')).to.have.property('error').that.includes('afi/safi must be integers');
    expect(parsePublishNode('/1/vn/10.0.0.1/32')).to.have.property('error').that.includes('afi/safi must be integers');
    expect(parsePublishNode('1/1//10.0.0.1/32')).to.have.property('error').that.includes('empty instance');
  });

  it('agrees with the part-by-part reading on arbitrary nodes', () => {
    const piece = fc.constantFrom('', '1', '01', 'a', '1a', '10.0.0.1', '32', 'x:y', '\u0663', ' 1', '99999999999999999999');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), fc.string(), (parts, extra) => {
        for (const node of [parts.join('/'), extra, parts.join('/') + extra]) {
          expect(parsePublishNode(node)).to.deep.equal(byParts(node));
        }
      }),
      { numRuns: 3000 },
    );
  });
});
