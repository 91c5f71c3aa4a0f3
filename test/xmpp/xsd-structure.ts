// A structural checker driven by Contrail's XSD read as data (xmllint cannot compile Contrail's
// dialect: <xsd:element> directly under <xsd:complexType>). It checks element names, nesting,
// multiplicity, integer/boolean fields, enumerations and attributes.
import { readFileSync } from 'node:fs';
import { sharedReference } from '../support/shared-reference.ts';
import { parse, type Element } from 'ltx';

// ltx's getChild() matches local names only; the schema's elements are matched by their full qname.
function kids(el: Element | undefined, qname: string): Element[] {
  return el ? el.getChildElements().filter((c) => c.name === qname) : [];
}

interface ChildDecl { type: string; many: boolean; hasDefault: boolean }
interface ComplexType { children: Map<string, ChildDecl>; attrs: Map<string, string> }
interface SimpleType { base: string; values: string[] }

export class XsdStructure {
  private readonly complex = new Map<string, ComplexType>();
  private readonly simple = new Map<string, SimpleType>();
  readonly topElements = new Map<string, string>();

  constructor(path: string) {
    const schema = parse(readFileSync(path, 'utf8'));
    for (const el of schema.getChildElements()) {
      const name = el.attrs.name as string;
      if (el.name === 'xsd:complexType') {
        const t: ComplexType = { children: new Map(), attrs: new Map() };
        const decls = [...kids(el, 'xsd:element'), ...kids(el, 'xsd:all').flatMap((a) => kids(a, 'xsd:element')),
          ...kids(el, 'xsd:sequence').flatMap((a) => kids(a, 'xsd:element'))];
        for (const d of decls) {
          t.children.set(d.attrs.name, { type: d.attrs.type, many: d.attrs.maxOccurs === 'unbounded', hasDefault: d.attrs.default !== undefined });
        }
        for (const a of kids(el, 'xsd:attribute')) t.attrs.set(a.attrs.name, a.attrs.type);
        this.complex.set(name, t);
      } else if (el.name === 'xsd:simpleType') {
        const r = kids(el, 'xsd:restriction')[0];
        this.simple.set(name, { base: r?.attrs.base ?? 'xsd:string', values: kids(r, 'xsd:enumeration').map((e) => e.attrs.value) });
      } else if (el.name === 'xsd:element') {
        this.topElements.set(name, el.attrs.type);
      }
    }
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
    // Generated Contrail encoders print an unset element that has an XSD default as empty (§5, §10).
    if (v === '' && emptyAllowed) return [];
    if (simple.values.length > 0 && !simple.values.includes(v)) return [`${path}: ${JSON.stringify(v)} not in ${type} {${simple.values.join(', ')}}`];
    return this.checkValue(v, simple.base, path, emptyAllowed);
  }
}

/** The real schema of the route items, from the shared reference (see test/support/shared-reference.ts). */
export function loadContrailXsd(ctx: Mocha.Context): XsdStructure {
  return new XsdStructure(sharedReference(ctx, 'reference/xsd/xmpp_unicast.xsd'));
}
