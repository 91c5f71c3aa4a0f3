// One naming rule for config objects: the store's check (model/names.ts) and the topology schema's
// `configName` definition, which the HTTP API validates bodies with, are the same pattern.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../src/model/config-error.ts';
import { ConfigStore } from '../../src/model/config-store.ts';
import { NO_RECONCILE } from '../../src/model/reconcile-hook.ts';
import { CONFIG_NAME_PATTERN, isConfigName } from '../../src/model/names.ts';

describe('model/names: one rule for every config name', () => {
  it('is the topology schema configName pattern', () => {
    const schema = JSON.parse(readFileSync(new URL('../../topologies/schema.json', import.meta.url), 'utf8')) as { definitions: { configName: { pattern: string } } };
    expect(schema.definitions.configName.pattern).to.equal(CONFIG_NAME_PATTERN.source);
  });

  it('takes fq-name parts and member names, refuses / and spaces', () => {
    for (const ok of ['lb1', 'default-domain:demo:svc-vn', 'pool1:30.30.30.10:8080', 'ns__pod-1', '_x']) expect(isConfigName(ok), ok).to.equal(true);
    for (const bad of ['a/b', 'a b', '', '-x', 'x'.repeat(256), 'é']) expect(isConfigName(bad), bad).to.equal(false);
  });

  it('is enforced by the store itself, so no client can create an object it cannot show', () => {
    const store = new ConfigStore({ reconcile: NO_RECONCILE });
    store.createVirtualNetwork({ name: 'vn', subnets: ['10.0.0.0/24'] });
    expect(() => store.createVirtualMachineInterface({ name: 'a/b', virtualNetwork: 'vn' })).to.throw(ConfigError, /name: "a\/b" is not a valid name/);
    expect(store.list('virtual-machine-interface')).to.deep.equal([]);
  });
});
