// Bad input on the command line: one clear line on stderr, exit 2, before anything runs; never a stack
// trace. Shell completion. No simulation needed (the API URL points nowhere).
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { ecmpsim } from './support/run-cli.ts';

const NOWHERE = ['--api', 'http://127.2.0.1:9'];

function oneLine(stderr: string): string[] {
  return stderr.trim().split('\n');
}

describe('ecmpsim usage errors', function () {
  this.timeout(60_000);
  const cases: [string, string[], RegExp][] = [
    ['traffic --count abc', ['traffic', '--from', 'client', '--to', '30.30.30.100:80', '--count', 'abc'], /--count .*expected an integer from 1 to 1000000, got "abc"/],
    ['traffic --count 0', ['traffic', '--from', 'client', '--to', '30.30.30.100:80', '--count', '0'], /--count .*got 0/],
    ['member-create --protocol-port abc', ['member-create', 'pool1', '--address', '30.30.30.12', '--protocol-port', 'abc'], /--protocol-port .*expected an integer from 1 to 65535/],
    ['member-create --protocol-port 70000', ['member-create', 'pool1', '--address', '30.30.30.12', '--protocol-port', '70000'], /got 70000/],
    ['member-create --address banana', ['member-create', 'pool1', '--address', 'banana', '--protocol-port', '80'], /"banana" is not an IPv4 address/],
    ['stanzas --limit -3', ['stanzas', '--limit', '-3'], /--limit .*got -3/],
    ['stanzas --direction sideways', ['stanzas', '--direction', 'sideways'], /sideways/],
    ['trace --to 30.30.30.100:99999', ['trace', '--from', 'client', '--to', '30.30.30.100:99999'], /the port of 30\.30\.30\.100:99999 must be from 1 to 65535/],
    ['trace --to 30.30.30.100', ['trace', '--from', 'client', '--to', '30.30.30.100'], /expected address:port/],
    ['routes --prefix banana', ['routes', 'control-1', '--prefix', 'banana'], /banana\/32 is not an IPv4 prefix/],
    ['flows --limit 1.5', ['flows', 'compute-1', '--limit', '1.5'], /--limit .*"1\.5"/],
    ['an unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
    ['an unknown option', ['nodes', '--frob'], /unknown option '--frob'/],
    ['a missing required option', ['trace', '--to', '30.30.30.100:80'], /--from <workload>' not specified/],
    ['completion fish', ['completion', 'fish'], /fish/],
    ['validate a file that does not exist', ['validate', 'topologies/no-such-file.json'], /cannot read topologies\/no-such-file\.json: ENOENT/],
  ];
  for (const [what, args, message] of cases) {
    it(`${what}: one line, exit 2`, async () => {
      const r = await ecmpsim([...NOWHERE, ...args]);
      expect(r.code, r.stderr).to.equal(2);
      expect(oneLine(r.stderr), r.stderr).to.have.length(1);
      expect(r.stderr).to.match(message);
      expect(r.stderr).to.not.match(/\n\s+at /);
      expect(r.stdout).to.equal('');
    });
  }

  it('an unreachable API: one message, exit 2, no stack trace', async () => {
    const r = await ecmpsim([...NOWHERE, 'nodes']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/is a simulation running\?/);
    expect(r.stderr).to.not.match(/\n\s+at /);
  });

  it('--help and --version exit 0', async () => {
    expect((await ecmpsim(['--help'])).code).to.equal(0);
    expect((await ecmpsim(['trace', '--help'])).code).to.equal(0);
    const v = await ecmpsim(['--version']);
    expect(v.code).to.equal(0);
    expect(v.stdout).to.match(/^\d+\.\d+\.\d+\n$/);
  });
});

describe('ecmpsim completion', function () {
  this.timeout(30_000);

  it('prints a bash script that completes verbs and options', async () => {
    const r = await ecmpsim(['completion', 'bash']);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.match(/complete -o filenames -F _ecmpsim ecmpsim/);
    const complete = (line: string): string[] => {
      const words = line.split(' ');
      const script = `${r.stdout}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _ecmpsim; printf '%s\\n' "\${COMPREPLY[@]}"`;
      return execFileSync('bash', ['-c', script], { encoding: 'utf8' }).trim().split('\n');
    };
    expect(complete('ecmpsim workload-')).to.include.members(['workload-create', 'workload-delete', 'workload-list']);
    expect(complete('ecmpsim traffic --co')).to.deep.equal(['--count']);
    expect(complete('ecmpsim member-list --j')).to.deep.equal(['--json']);
  });

  it('prints a zsh script (bash completion through bashcompinit)', async () => {
    const r = await ecmpsim(['completion', 'zsh']);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.match(/^autoload -U \+X bashcompinit && bashcompinit\n/);
    expect(r.stdout).to.match(/_ecmpsim\(\)/);
  });
});

describe('ecmpsim validate with YAML', function () {
  this.timeout(30_000);
  it('accepts a YAML topology (default.json written as YAML) and names path and line of an error', async () => {
    const { mkdtempSync, readFileSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const { stringify } = await import('yaml');
    const dir = mkdtempSync(path.join(tmpdir(), 'ecmpsim-cli-yaml-'));
    const json = JSON.parse(readFileSync('topologies/default.json', 'utf8')) as { $schema?: string; computes: { address: string }[] };
    delete json.$schema;
    const good = path.join(dir, 'default.yaml');
    writeFileSync(good, stringify(json));
    const r = await ecmpsim(['validate', good]);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.match(/default\.yaml: ok — three-compute-native-lb/);
    json.computes[1].address = json.computes[0].address;
    const bad = path.join(dir, 'bad.yml');
    writeFileSync(bad, stringify(json));
    const b = await ecmpsim(['validate', bad]);
    expect(b.code).to.equal(1);
    expect(b.stdout).to.match(/computes\[1\]\.address \(.*bad\.yml:\d+\): .* is already used by compute-1/);
  });
});

describe('ecmpsim internal errors', function () {
  this.timeout(30_000);
  it('show the stack only with --log-level debug', async () => {
    const quiet = await ecmpsim(['graph', 'topologies/default.json', '--out', '/nonexistent-dir/x.html']);
    expect(quiet.code).to.equal(2);
    expect(quiet.stderr.trim().split('\n')).to.have.length(1);
    expect(quiet.stderr).to.match(/cannot write \/nonexistent-dir\/x\.html/);
    const debug = await ecmpsim(['--log-level', 'debug', 'graph', 'topologies/default.json', '--out', '/nonexistent-dir/x.html']);
    expect(debug.code).to.equal(2);
    expect(debug.stderr).to.match(/\n\s+at /);
  });
});
