/**
 * Which VIP interfaces (VMI + instance-ip of the same name) the store made for a load balancer, so
 * they go with it and stay unbound. Shared by load-balancer.ts (which fills it) and
 * virtual-machine-interface.ts (which refuses to bind such a VMI to a compute). Owns nothing else.
 */
import { sideTable } from '../store/transaction.ts';

/** VIP VMI name → the load balancer that made it. */
export const VIP_OWNER = sideTable<string, string>('VIP interfaces made for a load balancer');
