// What the rule editor completes from the names seen in the data: event names quoted (they
// follow `performed`), trait and property names bare; each once, sorted.
export interface Catalog {
  eventNames: string[];
  propertyNames: string[];
  traitNames: string[];
}

export function completionNames(catalog: Catalog): string[] {
  const quoted = catalog.eventNames.map((name) => JSON.stringify(name));
  const bare = new Set([...catalog.traitNames, ...catalog.propertyNames]);
  return [...new Set(quoted)].sort().concat([...bare].sort());
}
