/** The address families this speaker knows, by the names Contrail's config uses. */
export type FamilyName = 'inet' | 'inet-vpn' | 'route-target';

export const AFI_IPV4 = 1;
export const SAFI_UNICAST = 1;
export const SAFI_MPLS_VPN = 128;
export const SAFI_ROUTE_TARGET = 132;

const BY_NAME: Record<FamilyName, { afi: number; safi: number }> = {
  inet: { afi: AFI_IPV4, safi: SAFI_UNICAST },
  'inet-vpn': { afi: AFI_IPV4, safi: SAFI_MPLS_VPN },
  'route-target': { afi: AFI_IPV4, safi: SAFI_ROUTE_TARGET },
};

export const ALL_FAMILIES: readonly FamilyName[] = ['inet', 'inet-vpn', 'route-target'];

export function familyCode(name: FamilyName): { afi: number; safi: number } {
  return BY_NAME[name];
}

export function familyName(afi: number, safi: number): FamilyName | undefined {
  return ALL_FAMILIES.find((n) => BY_NAME[n].afi === afi && BY_NAME[n].safi === safi);
}
