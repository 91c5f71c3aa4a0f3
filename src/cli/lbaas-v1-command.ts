// The seed's LBaaS v1 verbs for the haproxy load balancer (neutron lb-pool-create, lb-member-create,
// lb-healthmonitor-create/-associate/-disassociate, lb-vip-create, and their deletes), as clients of the
// simulation API's `/api/config/lbaas-v1` (src/lbaas/lbaas-v1.ts maps them onto the v2 objects).
// Thin: parse, call, print; errors are thrown with the API's one-line reason.
import { Option, type Command } from 'commander';
import { apiOf, call as apiCall } from './api-client.ts';
import { integerIn, port as portArgument } from './arguments.ts';

/** Calls the simulation API and prints the driver's warnings and problems the answer carries. */
async function call(cmd: Command, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const result = await apiCall<Record<string, unknown>>(apiOf(cmd), method, path, body);
  const lbaas = result.lbaas as { warnings?: { message: string }[]; problems?: { message: string }[] } | undefined;
  for (const w of lbaas?.warnings ?? []) process.stdout.write(`  warning: ${w.message}\n`);
  for (const p of lbaas?.problems ?? []) process.stdout.write(`  problem: ${p.message}\n`);
  return result;
}

const PROTOCOLS = ['TCP', 'UDP', 'HTTP', 'HTTPS', 'TERMINATED_HTTPS'];
const port = portArgument();

export function registerLbaasV1Commands(program: Command): void {
  program
    .command('lb-pool-create')
    .description('LBaaS v1: a pool waiting for its VIP (the haproxy workflow)')
    .requiredOption('--name <name>')
    .addOption(new Option('--lb-method <m>').choices(['ROUND_ROBIN', 'LEAST_CONNECTIONS', 'SOURCE_IP']).default('ROUND_ROBIN'))
    .addOption(new Option('--protocol <p>').choices(PROTOCOLS).default('HTTP'))
    .option('--subnet-id <subnet>', 'the pool network: a subnet (CIDR) or network name')
    .action(async (o: { name: string; lbMethod: string; protocol: string; subnetId?: string }, cmd: Command) => {
      await call(cmd, 'POST', '/api/config/lbaas-v1/pool', { name: o.name, method: o.lbMethod, protocol: o.protocol, subnet: o.subnetId });
      process.stdout.write(`created v1 pool ${o.name}\n`);
    });
  program
    .command('lb-member-create')
    .description('LBaaS v1: a member of a pool')
    .argument('<pool>')
    .requiredOption('--address <address>')
    .requiredOption('--protocol-port <port>', 'port on the member', port)
    .option('--weight <w>', 'haproxy weight 0..256', integerIn(0, 256))
    .action(async (pool: string, o: { address: string; protocolPort: number; weight?: number }, cmd: Command) => {
      const result = await call(cmd, 'POST', '/api/config/lbaas-v1/member', { pool, address: o.address, port: o.protocolPort, weight: o.weight });
      process.stdout.write(`created v1 member ${String(result.member)}\n`);
    });
  program
    .command('lb-healthmonitor-create')
    .description('LBaaS v1: a health monitor (associate it with a pool next)')
    .requiredOption('--name <name>')
    .addOption(new Option('--type <t>').choices(['PING', 'TCP', 'HTTP', 'HTTPS']).makeOptionMandatory())
    .option('--delay <s>', 'seconds between checks', integerIn(1, 2_147_483))
    .option('--timeout <s>', 'seconds a check waits', integerIn(1, 2_147_483))
    .option('--max-retries <n>', 'failures that take a member out', integerIn(1, 10))
    .option('--url-path <path>')
    .action(async (o: { name: string; type: string; delay?: number; timeout?: number; maxRetries?: number; urlPath?: string }, cmd: Command) => {
      await call(cmd, 'POST', '/api/config/loadbalancer-healthmonitor', { name: o.name, type: o.type, delay: o.delay, timeout: o.timeout, maxRetries: o.maxRetries, urlPath: o.urlPath });
      process.stdout.write(`created health monitor ${o.name}\n`);
    });
  for (const [verb, associate] of [['lb-healthmonitor-associate', true], ['lb-healthmonitor-disassociate', false]] as const) {
    program
      .command(verb)
      .description(`LBaaS v1: ${associate ? 'attach a health monitor to' : 'detach a health monitor from'} a pool`)
      .argument('<healthmonitor>')
      .argument('<pool>')
      .action(async (monitor: string, pool: string, _o: unknown, cmd: Command) => {
        await call(cmd, 'POST', '/api/config/lbaas-v1/healthmonitor-associate', { pool, healthMonitor: associate ? monitor : null });
        process.stdout.write(`${monitor} ${associate ? 'associated with' : 'disassociated from'} ${pool}\n`);
      });
  }
  program
    .command('lb-vip-create')
    .description('LBaaS v1: the VIP of a pool; makes the load balancer (haproxy by default), listener, pool and members')
    .argument('<pool>')
    .requiredOption('--name <name>')
    .requiredOption('--protocol-port <port>', 'port clients use on the VIP', port)
    .addOption(new Option('--protocol <p>').choices(PROTOCOLS))
    .requiredOption('--subnet-id <subnet>', 'the VIP network: a subnet (CIDR) or network name')
    .option('--address <address>', 'VIP address (default: allocated)')
    .addOption(new Option('--provider <p>').choices(['opencontrail', 'native']).default('opencontrail'))
    .action(async (pool: string, o: { name: string; protocolPort: number; protocol?: string; subnetId: string; address?: string; provider: string }, cmd: Command) => {
      await call(cmd, 'POST', '/api/config/lbaas-v1/vip', { name: o.name, pool, port: o.protocolPort, protocol: o.protocol, subnet: o.subnetId, address: o.address, provider: o.provider });
      process.stdout.write(`created VIP ${o.name} for ${pool} (load balancer ${o.name}, provider ${o.provider})\n`);
    });
  for (const what of ['vip', 'pool', 'member'] as const) {
    program
      .command(`lb-${what}-delete`)
      .description(`LBaaS v1: delete a ${what}${what === 'vip' ? ' (its pool and members stay)' : ''}`)
      .argument('<name>')
      .action(async (name: string, _o: unknown, cmd: Command) => {
        await call(cmd, 'DELETE', `/api/config/lbaas-v1/${what}/${encodeURIComponent(name)}`);
        process.stdout.write(`deleted v1 ${what} ${name}\n`);
      });
  }
}
