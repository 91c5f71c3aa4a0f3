// The structure of Contrail's inet route items (xmpp_unicast.xsd of the controller's schema directory),
// described here as typed data so that the conformance tests need nothing outside this repository.
// Contrail's XSDs are their own dialect (element declarations directly under a complexType), which no
// W3C validator compiles; what we check is what the generated encoder/decoder relies on: element names,
// nesting, multiplicity, integer and boolean fields, attributes and enumerations (docs/protocol.md §5).

/** A child element: its type (a complex or simple type below, or xsd:integer/boolean/string). */
export interface ChildDecl {
  readonly type: string;
  /** maxOccurs="unbounded". */
  readonly many?: boolean;
  /** The XSD gives a default: the generated encoder prints the element empty when it is unset. */
  readonly hasDefault?: boolean;
}

export interface ComplexTypeDecl {
  readonly children: Readonly<Record<string, ChildDecl>>;
  readonly attributes?: Readonly<Record<string, string>>;
}

export interface SimpleTypeDecl {
  readonly base: string;
  readonly values: readonly string[];
}

export interface SchemaDescription {
  readonly complexTypes: Readonly<Record<string, ComplexTypeDecl>>;
  readonly simpleTypes: Readonly<Record<string, SimpleTypeDecl>>;
  /** Top-level elements and their types. */
  readonly elements: Readonly<Record<string, string>>;
}

const INT = 'xsd:integer';
const STR = 'xsd:string';

export const UNICAST_ITEMS_SCHEMA: SchemaDescription = {
  simpleTypes: {
    TunnelEncapsulationType: { base: STR, values: ['gre', 'mpls', 'udp', 'vxlan'] },
    LoadBalanceFieldType: {
      base: STR,
      values: ['l3-source-address', 'l3-destination-address', 'l4-protocol', 'l4-source-port', 'l4-destination-port'],
    },
    LoadBalanceDecisionType: { base: STR, values: ['field-hash', 'source-bias'] },
    SubProtocolType: { base: STR, values: ['interface', 'interface-static', 'service-interface', 'bgpaas'] },
  },
  complexTypes: {
    TunnelEncapsulationListType: { children: { 'tunnel-encapsulation': { type: 'TunnelEncapsulationType', many: true } } },
    TagListType: { children: { tag: { type: INT, many: true } } },
    NextHopType: {
      children: {
        af: { type: INT },
        address: { type: STR },
        mac: { type: STR },
        label: { type: INT },
        vni: { type: INT },
        'tunnel-encapsulation-list': { type: 'TunnelEncapsulationListType' },
        'virtual-network': { type: STR },
        'tag-list': { type: 'TagListType' },
        'local-sequence-number': { type: INT },
      },
    },
    NextHopListType: { children: { 'next-hop': { type: 'NextHopType', many: true } } },
    IPAddressType: { children: { af: { type: INT }, safi: { type: INT }, address: { type: STR } } },
    SecurityGroupListType: { children: { 'security-group': { type: INT, many: true } } },
    CommunityTagListType: { children: { 'community-tag': { type: STR, many: true } } },
    LoadBalanceFieldListType: { children: { 'load-balance-field-list': { type: 'LoadBalanceFieldType', many: true } } },
    LoadBalanceType: {
      children: {
        'load-balance-fields': { type: 'LoadBalanceFieldListType' },
        'load-balance-decision': { type: 'LoadBalanceDecisionType', hasDefault: true },
      },
    },
    MobilityType: { children: {}, attributes: { sticky: 'xsd:boolean', seqno: INT } },
    EntryType: {
      children: {
        nlri: { type: 'IPAddressType' },
        'next-hops': { type: 'NextHopListType' },
        version: { type: INT },
        'virtual-network': { type: STR },
        mobility: { type: 'MobilityType' },
        'sequence-number': { type: INT },
        'security-group-list': { type: 'SecurityGroupListType' },
        'community-tag-list': { type: 'CommunityTagListType' },
        'local-preference': { type: INT },
        med: { type: INT },
        'load-balance': { type: 'LoadBalanceType' },
        'sub-protocol': { type: 'SubProtocolType', hasDefault: true },
      },
    },
    ItemType: { children: { entry: { type: 'EntryType' } } },
    ItemsType: { children: { item: { type: 'ItemType', many: true } } },
  },
  elements: { items: 'ItemsType' },
};
