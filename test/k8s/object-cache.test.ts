import { expect } from 'chai';
import { ObjectCache, compareResourceVersions } from '../../src/k8s/object-cache.ts';
import type { Pod, WatchEvent, WatchEventType } from '../../src/k8s/k8s-objects.ts';

function pod(resourceVersion: string | undefined, podIP = '10.32.0.5', uid = 'uid-1'): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-1', namespace: 'ns1', uid, ...(resourceVersion === undefined ? {} : { resourceVersion }) },
    spec: { nodeName: 'node-1' },
    status: { podIP, phase: 'Running' },
  };
}

const event = (type: WatchEventType, object: Pod): WatchEvent => ({ type, object });

describe('k8s object cache', () => {
  it('orders resource versions as decimal counters, and refuses to order anything else', () => {
    expect(compareResourceVersions('9', '10')).to.equal(-1);
    expect(compareResourceVersions('123456789012345678901', '123456789012345678900')).to.equal(1);
    expect(compareResourceVersions('7', '7')).to.equal(0);
    expect(compareResourceVersions('abc', '7')).to.equal(undefined);
    expect(compareResourceVersions(undefined, '7')).to.equal(undefined);
  });

  it('adds, modifies and deletes', () => {
    const cache = new ObjectCache();
    expect(cache.apply(event('ADDED', pod('10')))).to.deep.include({ changed: true, op: 'added' });
    expect(cache.apply(event('MODIFIED', pod('11', '10.32.0.6')))).to.deep.include({ changed: true, op: 'modified' });
    expect((cache.get('Pod', 'ns1', 'web-1') as Pod).status.podIP).to.equal('10.32.0.6');
    expect(cache.apply(event('DELETED', pod('12', '10.32.0.6')))).to.deep.include({ changed: true, op: 'deleted' });
    expect(cache.get('Pod', 'ns1', 'web-1')).to.equal(undefined);
    expect(cache.size).to.equal(0);
  });

  it('drops older and repeated versions', () => {
    const cache = new ObjectCache();
    cache.apply(event('ADDED', pod('20')));
    expect(cache.apply(event('MODIFIED', pod('19', '10.32.0.9')))).to.deep.equal({ changed: false, why: 'stale: resourceVersion 19 is older than 20' });
    expect(cache.apply(event('MODIFIED', pod('20')))).to.deep.equal({ changed: false, why: 'repeated: resourceVersion 20 is already held' });
    expect((cache.get('Pod', 'ns1', 'web-1') as Pod).status.podIP).to.equal('10.32.0.5');
  });

  it('without versions, drops the same content and takes a different one', () => {
    const cache = new ObjectCache();
    cache.apply(event('ADDED', pod(undefined)));
    expect(cache.apply(event('ADDED', pod(undefined)))).to.deep.equal({ changed: false, why: 'repeated: same content' });
    expect(cache.apply(event('ADDED', pod(undefined, '10.32.0.7')))).to.deep.include({ changed: true, op: 'modified' });
  });

  it('keeps a tombstone: a late ADDED of the deleted version does not bring the object back', () => {
    const cache = new ObjectCache();
    cache.apply(event('ADDED', pod('30')));
    cache.apply(event('DELETED', pod('31')));
    expect(cache.apply(event('ADDED', pod('30')))).to.deep.include({ changed: false });
    expect(cache.apply(event('MODIFIED', pod('31')))).to.deep.include({ changed: false });
    expect(cache.get('Pod', 'ns1', 'web-1')).to.equal(undefined);
    // re-created: a newer version (and a new uid)
    expect(cache.apply(event('ADDED', pod('40', '10.32.0.8', 'uid-2')))).to.deep.include({ changed: true, op: 'added' });
  });

  it('remembers a DELETED that arrives before the object, so an older ADDED is stale', () => {
    const cache = new ObjectCache();
    expect(cache.apply(event('DELETED', pod('50')))).to.deep.include({ changed: false });
    expect(cache.apply(event('ADDED', pod('45')))).to.deep.include({ changed: false });
    expect(cache.size).to.equal(0);
  });
});
