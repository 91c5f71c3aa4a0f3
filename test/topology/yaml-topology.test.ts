// YAML topology files: the same schema and meaning checks as JSON, errors with the JSON path and the line.
// The example is generated from default.json here rather than shipped, so it cannot drift.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { formatTopologyError, loadTopologyFile } from '../../src/topology/loader.ts';

const TOPOLOGIES = fileURLToPath(new URL('../../topologies/', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'ecmpsim-yaml-'));

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('YAML topology files', () => {
  for (const name of ['default.json', 'alt-addresses.json', 'two-control-split.json']) {
    it(`${name} as YAML resolves to the same topology`, async () => {
      const json = JSON.parse(readFileSync(path.join(TOPOLOGIES, name), 'utf8')) as Record<string, unknown>;
      delete json.$schema;
      const fromJson = await loadTopologyFile(path.join(TOPOLOGIES, name));
      for (const ext of ['yaml', 'yml']) {
        const fromYaml = await loadTopologyFile(write(name.replace(/\.json$/, `.${ext}`), stringify(json)));
        expect(fromYaml.ok, fromYaml.ok ? '' : fromYaml.errors.map(formatTopologyError).join('\n')).to.equal(true);
        expect(fromYaml.ok && fromYaml.topology).to.deep.equal(fromJson.ok && fromJson.topology);
      }
    });
  }

  it('names the JSON path and the line of a meaning error', async () => {
    const file = write(
      'dup.yaml',
      ['name: dup', 'controlNodes:', '  - name: control-1', '    address: 127.2.9.1', 'computes:', '  - name: compute-1', '    address: 127.2.9.11', '  - name: compute-2', '    address: 127.2.9.11', 'networks:', '  - name: default-domain:demo:vn', '    subnets: [30.30.30.0/24]', ''].join('\n'),
    );
    const result = await loadTopologyFile(file);
    expect(result.ok).to.equal(false);
    const text = result.ok ? '' : result.errors.map(formatTopologyError).join('\n');
    expect(text).to.equal(`computes[1].address (${file}:9): 127.2.9.11 is already used by compute-1`);
  });

  it('names the path and line of a schema error, and the parent’s line for a missing field', async () => {
    const file = write('shape.yml', 'name: x\ncomputes: 3\nextra: 1\n');
    const result = await loadTopologyFile(file);
    const text = result.ok ? '' : result.errors.map(formatTopologyError).join('\n');
    expect(text).to.match(new RegExp(`^computes \\(${file.replace(/[.]/g, '\\.')}:2\\): must be an array`, 'm'));
    expect(text).to.match(/^extra \(.*:3\): is not a known property/m);
    expect(text).to.match(/^controlNodes \(.*:1\): is required/m);
  });

  it('reports malformed YAML with line and column', async () => {
    const result = await loadTopologyFile(write('broken.yaml', 'name: x\ncomputes: [\n'));
    expect(result.ok).to.equal(false);
    expect(result.ok ? '' : result.errors[0].message).to.match(/broken\.yaml:\d+:\d+: malformed YAML: /);
  });

  it('refuses duplicate keys (a YAML map is a JSON object)', async () => {
    const result = await loadTopologyFile(write('dupkey.yaml', 'name: a\nname: b\n'));
    expect(result.ok ? '' : result.errors[0].message).to.match(/dupkey\.yaml:2:1: malformed YAML: .*unique/i);
  });
});
