// A structural checker of XML elements against a schema described as data (test/xmpp/unicast-schema.ts
// for the route items). It checks element names, nesting, multiplicity, integer/boolean fields,
// enumerations and attributes.
import type { Element } from 'ltx';
import { UNICAST_ITEMS_SCHEMA, type SchemaDescription } from './unicast-schema.ts';

interface ChildDecl { type: string; many: boolean; hasDefault: boolean }
interface ComplexType { children: Map<string, ChildDecl>; attrs: Map<string, string> }
interface SimpleType { base: string; values: readonly string[] }

export class XsdStructure {
  private readonly complex = new Map<string, ComplexType>();
  private readonly simple = new Map<string, SimpleType>();
  readonly topElements = new Map<string, string>();

  constructor(schema: SchemaDescription) {
    for (const [name, t] of Object.entries(schema.complexTypes)) {
      const children = new Map(Object.entries(t.children).map(([child, d]) => [child, { type: d.type, many: d.many === true, hasDefault: d.hasDefault === true }]));
      this.complex.set(name, { children, attrs: new Map(Object.entries(t.attributes ?? {})) });
    }
    for (const [name, t] of Object.entries(schema.simpleTypes)) this.simple.set(name, t);
    for (const [name, type] of Object.entries(schema.elements)) this.topElements.set(name, type);
  }

  typeNames(): string[] {
    return [...this.complex.keys(), ...this.simple.keys()];
  }

  /** Problems found in `el` checked as an instance of `typeName`; [] when it conforms. */
  check(el: Element, typeName: string, path = el.name): string[] {
    const problems: string[] = [];
    const complex = this.complex.get(typeName);
    if (complex) {
      for (const [k, v] of Object.entries(el.attrs)) {
        if (k === 'xmlns' && v === '') continue;
        const at = complex.attrs.get(k);
        if (!at) { problems.push(`${path}/@${k}: attribute not in ${typeName}`); continue; }
        problems.push(...this.checkValue(String(v), at, `${path}/@${k}`, false));
      }
      const text = el.getText().trim();
      if (text !== '') problems.push(`${path}: text ${JSON.stringify(text)} in complex type ${typeName}`);
      const seen = new Map<string, number>();
      for (const c of el.getChildElements()) {
        const decl = complex.children.get(c.name);
        if (!decl) { problems.push(`${path}/${c.name}: element not in ${typeName}`); continue; }
        const n = (seen.get(c.name) ?? 0) + 1;
        seen.set(c.name, n);
        if (n > 1 && !decl.many) problems.push(`${path}/${c.name}: occurs ${n} times, at most once allowed`);
        problems.push(...this.checkElement(c, decl, `${path}/${c.name}`));
      }
      return problems;
    }
    return this.checkElement(el, { type: typeName, many: false, hasDefault: false }, path);
  }

  private checkElement(el: Element, decl: ChildDecl, path: string): string[] {
    if (this.complex.has(decl.type)) return this.check(el, decl.type, path);
    if (el.getChildElements().length > 0) return [`${path}: child elements in simple type ${decl.type}`];
    if (Object.keys(el.attrs).length > 0) return [`${path}: attributes on simple type ${decl.type}`];
    return this.checkValue(el.getText(), decl.type, path, decl.hasDefault);
  }

  private checkValue(v: string, type: string, path: string, emptyAllowed: boolean): string[] {
    if (type === 'xsd:integer') return /^-?\d+$/.test(v) ? [] : [`${path}: ${JSON.stringify(v)} is not an integer`];
    if (type === 'xsd:boolean') return /^(true|false|0|1)$/.test(v) ? [] : [`${path}: ${JSON.stringify(v)} is not a boolean`];
    if (type === 'xsd:string') return [];
    const simple = this.simple.get(type);
    if (!simple) return [`${path}: unknown type ${type}`];
    // Generated Contrail encoders print an unset element that has an XSD default as empty (docs/protocol.md §5).
    if (v === '' && emptyAllowed) return [];
    if (simple.values.length > 0 && !simple.values.includes(v)) return [`${path}: ${JSON.stringify(v)} not in ${type} {${simple.values.join(', ')}}`];
    return this.checkValue(v, simple.base, path, emptyAllowed);
  }
}

/** The route items' schema (xmpp_unicast.xsd), from the description in this directory. */
export function unicastItemsSchema(): XsdStructure {
  return new XsdStructure(UNICAST_ITEMS_SCHEMA);
}
