// The one naming rule of config objects, as Contrail's fq-name parts: letters, digits and `_ . : -`, no
// `/` (a name must be usable as one URL path segment) and no spaces. The same pattern is the topology
// schema's `configName` definition (topologies/schema.json), which the HTTP API validates bodies with;
// test/model/names.test.ts keeps the two equal. Owns the rule only.

export const CONFIG_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,254}$/;

export const CONFIG_NAME_RULE = 'letters, digits and "_ . : -", starting with a letter, digit or "_", at most 255 characters (no "/" or spaces)';

export function isConfigName(value: string): boolean {
  return CONFIG_NAME_PATTERN.test(value);
}
