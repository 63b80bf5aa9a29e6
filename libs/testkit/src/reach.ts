/**
 * Whether `to` is reachable from `from` along `edges`, by brute force: the
 * reference the dependency graph's cycle checks are held to.
 */
export function reachable(edges: ReadonlyMap<string, Iterable<string>>, from: string, to: string): boolean {
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length > 0) {
    const at = stack.pop() as string;
    if (at === to) return true;
    if (seen.has(at)) continue;
    seen.add(at);
    for (const next of edges.get(at) ?? []) stack.push(next);
  }
  return false;
}
