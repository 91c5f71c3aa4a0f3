import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { JsonValueSplitter, formatProblem, parseJsonStream, parseManifests, parseYaml, type ParsedEntry } from '../../src/k8s/manifest-parser.ts';
import type { Service } from '../../src/k8s/k8s-objects.ts';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/k8s/${name}`, import.meta.url), 'utf8');
const topologyFile = (name: string): string => readFileSync(new URL(`../../topologies/k8s/${name}`, import.meta.url), 'utf8');

function oks(entries: ParsedEntry[]): Extract<ParsedEntry, { ok: true }>[] {
  return entries.filter((e): e is Extract<ParsedEntry, { ok: true }> => e.ok);
}

function problems(entries: ParsedEntry[]): Extract<ParsedEntry, { ok: false }>[] {
  return entries.filter((e): e is Extract<ParsedEntry, { ok: false }> => !e.ok);
}

const service = (extra: Record<string, unknown> = {}, spec: Record<string, unknown> = {}): Record<string, unknown> => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', namespace: 'ns1', resourceVersion: '5' },
  spec: { clusterIP: '10.96.0.10', ports: [{ port: 80, targetPort: 8080 }], ...spec },
  ...extra,
});

describe('k8s manifest parser', () => {
  describe('JsonValueSplitter', () => {
    it('splits concatenated values wherever the chunks end, braces inside strings included', () => {
      const text = '{"a":"}{","b":[1,{"c":"\\"}"}]}\n{"d":2}{"e":"x"}  [1,2]';
      const splitter = new JsonValueSplitter();
      const values: string[] = [];
      for (let i = 0; i < text.length; i += 3) values.push(...splitter.push(text.slice(i, i + 3)));
      expect(splitter.end()).to.equal(undefined);
      expect(values.map((v) => JSON.parse(v))).to.deep.equal([{ a: '}{', b: [1, { c: '"}' }] }, { d: 2 }, { e: 'x' }, [1, 2]]);
    });

    it('hands back a truncated last value at the end', () => {
      const splitter = new JsonValueSplitter();
      expect(splitter.push('{"a":1}{"b":')).to.deep.equal(['{"a":1}']);
      expect(splitter.end()).to.equal('{"b":');
    });
  });

  it('reads a v1 List of every kind kube-manager uses', () => {
    const entries = parseManifests(topologyFile('three-node-cluster.json'));
    expect(problems(entries)).to.deep.equal([]);
    expect(oks(entries).map((e) => e.event.object.kind)).to.deep.equal(['Node', 'Node', 'Node', 'Service', 'Service', 'Pod', 'Pod', 'Pod', 'Endpoints', 'Endpoints']);
    expect(oks(entries).every((e) => e.event.type === 'ADDED')).to.equal(true);
    expect(entries[3].at).to.equal('document 1 items[3]');
  });

  it('reads multi-document YAML with the seed service (port 8888 → targetPort 80)', () => {
    const entries = parseYaml(topologyFile('service-web-clusterip.yaml'));
    expect(problems(entries)).to.deep.equal([]);
    const svc = oks(entries)[0].event.object as Service;
    expect(svc.metadata).to.include({ name: 'service-web-clusterip', namespace: 'ns-user-1' });
    expect(svc.spec.ports).to.deep.equal([{ protocol: 'TCP', port: 8888, targetPort: 80 }]);
    expect(oks(entries).map((e) => e.event.object.kind)).to.deep.equal(['Service', 'Endpoints', 'Pod', 'Pod']);
  });

  it('reads a watch stream with --output-watch-events, keeping each event type', () => {
    const entries = parseJsonStream(fixture('watch-events.json'));
    expect(problems(entries)).to.deep.equal([]);
    expect(oks(entries).map((e) => e.event.type)).to.deep.equal(['ADDED', 'ADDED', 'ADDED', 'ADDED', 'ADDED', 'MODIFIED', 'ADDED', 'ADDED', 'MODIFIED', 'MODIFIED', 'DELETED', 'MODIFIED']);
  });

  it('reads a bare watch stream (objects back to back on one line, or pretty-printed)', () => {
    const entries = parseManifests(fixture('watch-bare.json'));
    expect(problems(entries)).to.deep.equal([]);
    expect(oks(entries).map((e) => `${e.event.object.kind}@${e.event.object.metadata.resourceVersion}`)).to.deep.equal([
      'Endpoints@1010',
      'Service@1001',
      'Pod@1003',
      'Pod@1004',
      'Service@1001',
      'Endpoints@1020',
      'Pod@1018',
      'Endpoints@1015',
      'Endpoints@1040',
    ]);
  });

  it('reports each malformed object with kind, namespace/name and field, and goes on with the batch', () => {
    const list = {
      apiVersion: 'v1',
      kind: 'List',
      items: [
        service({}, { ports: [{ port: 70000 }] }),
        service({ metadata: { name: 'ok', namespace: 'ns1' } }),
        { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'web', namespace: 'ns1' }, subsets: [{ addresses: [{ ip: '10.1.2.300' }] }] },
        { apiVersion: 'discovery.k8s.io/v1beta1', kind: 'EndpointSlice', metadata: { name: 'web-abc', namespace: 'ns1' } },
        { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'ns1' } },
        { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'ns1' } },
        service({}, { ports: [{ port: 80 }, { port: 81 }] }),
        'not an object',
      ],
    };
    const entries = parseManifests(JSON.stringify(list));
    expect(oks(entries).map((e) => e.event.object.metadata.name)).to.deep.equal(['ok']);
    const lines = problems(entries).map((e) => formatProblem(e.problem));
    expect(lines).to.deep.equal([
      'document 1 items[0] Service ns1/web: spec.ports[0].port: must be a port from 1 to 65535, got 70000',
      'document 1 items[2] Endpoints ns1/web: subsets[0].addresses[0].ip: "10.1.2.300" is not an IPv4 address',
      'document 1 items[3] EndpointSlice ns1/web-abc: apiVersion: EndpointSlice is read as discovery.k8s.io/v1, got "discovery.k8s.io/v1beta1" (discovery.k8s.io/v1beta1 was removed in Kubernetes 1.25)',
      'document 1 items[4] Deployment ns1/web: kind Deployment is not read by kube-manager (it reads Service, Endpoints, EndpointSlice, Pod, Node)',
      'document 1 items[5] Pod: metadata.name: must be a non-empty string, got nothing',
      'document 1 items[6] Service ns1/web: spec.ports: every port of a multi-port service needs a name',
      'document 1 items[7] (not an object): must be a Kubernetes object, a List or a watch event, got "not an object"',
    ]);
    expect(problems(entries).map((e) => e.skipped)).to.deep.equal([false, false, false, true, false, false, false]);
  });

  it('reports a YAML document that does not parse and reads the others', () => {
    const text = `${JSON.stringify(service())}\n---\nkind: [unclosed\n---\n${JSON.stringify(service({ metadata: { name: 'web2', namespace: 'ns1' } }))}\n`;
    const entries = parseYaml(`# comment first\n${text}`);
    expect(oks(entries).map((e) => e.event.object.metadata.name)).to.deep.equal(['web', 'web2']);
    expect(problems(entries)).to.have.length(1);
    expect(problems(entries)[0].problem.at).to.equal('document 2');
    expect(problems(entries)[0].problem.reason).to.match(/^not valid YAML/);
  });

  it('reports JSON that does not parse, a bad watch type and kubectl ERROR events', () => {
    const text = `{"type":"BOOKMARK","object":${JSON.stringify(service())}}\n{"type":"ERROR","object":{"kind":"Status","message":"too old resource version"}}\n{"kind": nope}`;
    const lines = problems(parseJsonStream(text)).map((e) => formatProblem(e.problem));
    expect(lines[0]).to.equal('document 1 Service ns1/web: type: watch event type must be one of ADDED, MODIFIED, DELETED, got "BOOKMARK"');
    expect(lines[1]).to.equal('document 2 Status: the watch ended with an error: too old resource version');
    expect(lines[2]).to.match(/^document 3 \(unreadable\): not valid JSON/);
  });

  it('defaults what kubectl apply defaults: namespace, service type, protocols; headless and string targetPort pass', () => {
    const [entry] = oks(parseManifests(JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'db' }, spec: { clusterIP: 'None', ports: [{ name: 'pg', port: 5432, targetPort: 'pg' }] } })));
    const svc = entry.event.object as Service;
    expect(svc.metadata.namespace).to.equal('default');
    expect(svc.spec).to.deep.equal({ type: 'ClusterIP', clusterIP: 'None', ports: [{ name: 'pg', protocol: 'TCP', port: 5432, targetPort: 'pg' }] });
  });
});
