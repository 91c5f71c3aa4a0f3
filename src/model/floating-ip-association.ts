/**
 * A floating-ip allocated from a pool and associated with an instance-ip follows that address: it is on
 * every VMI holding the instance-ip (the several VMIs of a shared active-active address, or a native
 * LB's VIP interface, which the driver then carries on to the members). This step rewrites the reconcile
 * input before the driver sees it, so the association follows scale-out and scale-in with no stored
 * copy to keep in step. Owns only that expansion; not the FIP objects (kinds/floating-ip.ts) nor
 * any driver.
 */
import type { ReconcileInput } from './reconcile-hook.ts';

export function withAssociations(input: ReconcileInput): ReconcileInput {
  const associated = input.floatingIps.filter((fip) => fip.userCreated && fip.fixedInstanceIp !== undefined);
  if (associated.length === 0) return input;
  const instanceIps = new Map(input.instanceIps.map((iip) => [iip.name, iip]));
  const refs = new Map(input.userFloatingIpRefs);
  const followed = new Map<string, readonly string[]>();
  for (const fip of associated) {
    const iip = instanceIps.get(fip.fixedInstanceIp as string);
    if (iip === undefined) continue;
    const own = input.userFloatingIpRefs.get(fip.name) ?? [];
    const all = [...new Set([...own, ...(iip.virtualMachineInterfaces ?? [iip.virtualMachineInterface])])];
    refs.set(fip.name, all);
    followed.set(fip.name, all);
  }
  return {
    ...input,
    userFloatingIpRefs: refs,
    floatingIps: input.floatingIps.map((fip) => {
      const vmis = followed.get(fip.name);
      return vmis === undefined ? fip : { ...fip, virtualMachineInterfaces: vmis };
    }),
  };
}
