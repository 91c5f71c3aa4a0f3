// Subset matching in the style of FRR topotests' json_cmp: what a scenario expects is a partial picture
// of the state, and the state matches when every expected key is there with a matching value.

export type Subset<T> = T extends readonly (infer U)[]
  ? readonly Subset<U>[]
  : T extends object
    ? { readonly [K in keyof T]?: Subset<T[K]> }
    : T;

/** null when `actual` contains `expected`; otherwise the JSON path and the first difference. */
export function subsetMismatch(actual: unknown, expected: unknown, path = '$'): string | null {
  if (expected === null || typeof expected !== 'object') {
    return Object.is(actual, expected) ? null : `${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${path}: expected an array, got ${JSON.stringify(actual)}`;
    if (actual.length !== expected.length) return `${path}: expected ${expected.length} elements, got ${actual.length}`;
    for (let i = 0; i < expected.length; i++) {
      const m = subsetMismatch(actual[i], expected[i], `${path}[${i}]`);
      if (m) return m;
    }
    return null;
  }
  if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) {
    return `${path}: expected an object, got ${JSON.stringify(actual)}`;
  }
  for (const [key, value] of Object.entries(expected)) {
    if (value === undefined) continue;
    const m = subsetMismatch((actual as Record<string, unknown>)[key], value, `${path}.${key}`);
    if (m) return m;
  }
  return null;
}
