// The north-south verbs: a shared VIP on several ports (Avi's scale-out: an active-active instance-ip,
// created, then scaled out and in by naming its ports), floating-ip pools and floating IPs from them
// associated with an instance-ip (a native LB's VIP or a shared VIP), and a gateway's table and hash
// mode. Thin clients of the config API and of /api/nodes/<gateway>; no logic of their own.
import type { Command } from 'commander';
import type { ApiHandler } from '../api/api-router.ts';

type Call = <T>(api: ApiHandler, method: string, path: string, body?: unknown) => Promise<T>;

interface GatewayRouteJson {
  prefix: string;
  paths: { nextHop: string; label: number; rd: string }[];
  unused: number;
  buckets?: Record<string, number>;
}

function list(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

export function gatewayRoutesView(routes: GatewayRouteJson[]): string {
  const lines: string[] = [];
  for (const route of routes) {
    lines.push(`${route.prefix}  ${route.paths.length} path(s)${route.unused > 0 ? `, ${route.unused} beyond maxPaths` : ''}`);
    for (const path of route.paths) {
      const buckets = route.buckets?.[path.nextHop];
      lines.push(`    ${path.nextHop.padEnd(15)} label ${String(path.label).padEnd(7)} rd ${path.rd}${buckets === undefined ? '' : `  ${buckets} buckets`}`);
    }
  }
  return lines.join('\n') || 'no routes';
}

export function registerNorthSouthCommands(program: Command, apiOf: (command: Command) => ApiHandler, call: Call): void {
  const write = (value: unknown, json: boolean | undefined, human: () => string) => process.stdout.write(`${json === true ? JSON.stringify(value, null, 2) : human()}\n`);

  program
    .command('shared-vip-create')
    .description('one address on several ports (active-active instance-ip): each port\'s compute advertises it, the ECMP is built remotely, no NAT')
    .argument('<name>')
    .requiredOption('--ports <vmi,...>', 'the interfaces (workload names) holding the address')
    .option('--address <ip>', 'default: allocated in the ports\' network')
    .option('--json', 'JSON output')
    .action(async (name: string, o: { ports: string; address?: string; json?: boolean }, cmd: Command) => {
      const result = await call<{ object: { address: string } }>(apiOf(cmd), 'POST', '/api/config/instance-ip', {
        name, virtualMachineInterfaces: list(o.ports), mode: 'active-active', ...(o.address ? { address: o.address } : {}),
      });
      write(result, o.json, () => `instance-ip ${name}: ${result.object.address} on ${list(o.ports).join(', ')}`);
    });

  program
    .command('shared-vip-set')
    .description('scale a shared VIP out or in: the full list of ports that hold it from now on')
    .argument('<name>')
    .requiredOption('--ports <vmi,...>')
    .option('--json', 'JSON output')
    .action(async (name: string, o: { ports: string; json?: boolean }, cmd: Command) => {
      const result = await call(apiOf(cmd), 'PATCH', `/api/config/instance-ip/${encodeURIComponent(name)}`, { virtualMachineInterfaces: list(o.ports) });
      write(result, o.json, () => `instance-ip ${name} is on ${list(o.ports).join(', ')}`);
    });

  program
    .command('fip-pool-create')
    .description('a floating-ip pool on a (public) network')
    .argument('<name>')
    .requiredOption('--network <vn>')
    .action(async (name: string, o: { network: string }, cmd: Command) => {
      await call(apiOf(cmd), 'POST', '/api/config/floating-ip-pool', { name, virtualNetwork: o.network });
      process.stdout.write(`floating-ip-pool ${name} on ${o.network}\n`);
    });

  program
    .command('fip-create')
    .description('a floating IP from a pool, optionally associated with an instance-ip (a LB VIP or a shared VIP): it follows that address to every port')
    .argument('<name>')
    .requiredOption('--pool <pool>')
    .option('--address <ip>', 'default: the pool\'s lowest free address')
    .option('--instance-ip <name>', 'associate with this instance-ip')
    .option('--loadbalancer <name>', 'associate with this load balancer\'s VIP')
    .option('--json', 'JSON output')
    .action(async (name: string, o: { pool: string; address?: string; instanceIp?: string; loadbalancer?: string; json?: boolean }, cmd: Command) => {
      const api = apiOf(cmd);
      let fixedInstanceIp = o.instanceIp;
      if (o.loadbalancer !== undefined) {
        const lb = await call<{ virtualMachineInterface: string }>(api, 'GET', `/api/config/loadbalancer/${encodeURIComponent(o.loadbalancer)}`);
        const iips = await call<{ name: string; virtualMachineInterface: string }[]>(api, 'GET', '/api/config/instance-ip');
        fixedInstanceIp = iips.find((i) => i.virtualMachineInterface === lb.virtualMachineInterface)?.name;
      }
      const result = await call<{ object: { address: string; virtualMachineInterfaces: string[] } }>(api, 'POST', '/api/config/floating-ip', {
        name, pool: o.pool, ...(o.address ? { address: o.address } : {}), ...(fixedInstanceIp ? { fixedInstanceIp } : {}),
      });
      write(result, o.json, () => `floating-ip ${name}: ${result.object.address}${fixedInstanceIp ? ` → ${fixedInstanceIp}` : ''}`);
    });

  program
    .command('gateway-routes')
    .description('a gateway\'s table: each prefix with its ECMP paths (and buckets per path in resilient mode)')
    .argument('<gateway>')
    .option('--json', 'JSON output')
    .action(async (gateway: string, o: { json?: boolean }, cmd: Command) => {
      const routes = await call<GatewayRouteJson[]>(apiOf(cmd), 'GET', `/api/nodes/${encodeURIComponent(gateway)}/routes`);
      write(routes, o.json, () => gatewayRoutesView(routes));
    });

  program
    .command('gateway-hash')
    .description('switch a gateway\'s hash: stateless (hash mod n) or resilient (bucket table)')
    .argument('<gateway>')
    .argument('<mode>', 'stateless | resilient')
    .action(async (gateway: string, mode: string, _o: unknown, cmd: Command) => {
      await call(apiOf(cmd), 'PATCH', `/api/nodes/${encodeURIComponent(gateway)}/hash`, { mode });
      process.stdout.write(`${gateway}: hash ${mode}\n`);
    });
}
