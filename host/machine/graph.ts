// The resource graph (rdk `resource/resource_graph.go`): nodes are resources by full name, an edge
// goes from a dependency (parent) to its dependent (child). Adding an edge that would close a cycle,
// or a self-dependency, is refused with rdk's text, so the graph is always a DAG; construction runs
// over its topological levels and closing runs over them backwards.

/** Why an edge was refused; the message is rdk's. */
export class DependencyEdgeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DependencyEdgeError";
  }
}

export class ResourceGraph {
  /** node -> the nodes it depends on */
  readonly #parents = new Map<string, Set<string>>();
  /** node -> the nodes that depend on it */
  readonly #children = new Map<string, Set<string>>();

  /** `label` names a node in error texts (rdk prints the short resource name). */
  constructor(private readonly label: (key: string) => string = (key) => key) {}

  has(key: string): boolean {
    return this.#parents.has(key);
  }

  keys(): string[] {
    return [...this.#parents.keys()];
  }

  add(key: string): void {
    if (this.has(key)) return;
    this.#parents.set(key, new Set());
    this.#children.set(key, new Set());
  }

  /** Removes a node and every edge touching it. */
  remove(key: string): void {
    for (const parent of this.#parents.get(key) ?? []) this.#children.get(parent)?.delete(key);
    for (const child of this.#children.get(key) ?? []) this.#parents.get(child)?.delete(key);
    this.#parents.delete(key);
    this.#children.delete(key);
  }

  /**
   * Makes `child` depend on `parent`. Throws DependencyEdgeError for a self-dependency or when
   * `parent` already depends (transitively) on `child`, and leaves the graph unchanged.
   */
  addEdge(child: string, parent: string): void {
    if (!this.has(child) || !this.has(parent)) throw new Error(`no node ${this.has(child) ? parent : child} in the graph`);
    if (child === parent) throw new DependencyEdgeError(`${this.label(child)} cannot depend on itself`);
    if (this.dependsOn(parent, child)) {
      throw new DependencyEdgeError(`circular dependency - ${this.label(parent)} already depends on ${this.label(child)}`);
    }
    this.#parents.get(child)!.add(parent);
    this.#children.get(parent)!.add(child);
  }

  /** Drops every edge from `child` to what it depends on (before re-resolving a changed config). */
  removeParentEdges(child: string): void {
    for (const parent of this.#parents.get(child) ?? []) this.#children.get(parent)?.delete(child);
    this.#parents.get(child)?.clear();
  }

  /** What `key` depends on directly. */
  parents(key: string): string[] {
    return [...(this.#parents.get(key) ?? [])];
  }

  /** What depends on `key` directly. */
  children(key: string): string[] {
    return [...(this.#children.get(key) ?? [])];
  }

  /** True when `from` depends on `to`, directly or through others. */
  dependsOn(from: string, to: string): boolean {
    const seen = new Set<string>();
    const stack = [from];
    while (stack.length > 0) {
      const k = stack.pop()!;
      for (const p of this.#parents.get(k) ?? []) {
        if (p === to) return true;
        if (!seen.has(p)) {
          seen.add(p);
          stack.push(p);
        }
      }
    }
    return false;
  }

  /** The given nodes and everything that depends on them, directly or not. */
  withDescendants(keys: Iterable<string>): Set<string> {
    const out = new Set<string>();
    const stack = [...keys].filter((k) => this.has(k));
    while (stack.length > 0) {
      const k = stack.pop()!;
      if (out.has(k)) continue;
      out.add(k);
      for (const c of this.#children.get(k) ?? []) stack.push(c);
    }
    return out;
  }

  /**
   * Topological levels, dependencies first: every node in a level depends only on nodes in earlier
   * levels. With `subset`, only those nodes, ordered by the edges among them. Within a level, nodes
   * keep insertion order.
   */
  levels(subset?: ReadonlySet<string>): string[][] {
    const members = subset ? this.keys().filter((k) => subset.has(k)) : this.keys();
    const inSet = new Set(members);
    const pending = new Map<string, number>();
    for (const k of members) pending.set(k, this.parents(k).filter((p) => inSet.has(p)).length);
    const levels: string[][] = [];
    let current = members.filter((k) => pending.get(k) === 0);
    const placed = new Set<string>();
    while (current.length > 0) {
      levels.push(current);
      for (const k of current) placed.add(k);
      const next = new Set<string>();
      for (const k of current) {
        for (const c of this.#children.get(k) ?? []) {
          if (!inSet.has(c)) continue;
          const left = pending.get(c)! - 1;
          pending.set(c, left);
          if (left === 0) next.add(c);
        }
      }
      current = members.filter((k) => next.has(k));
    }
    // Edges are refused when they would close a cycle, so every node is placed.
    if (placed.size !== members.length) throw new Error("invariant: resource graph has a cycle");
    return levels;
  }

  /** Levels dependents first, for closing. */
  reverseLevels(subset?: ReadonlySet<string>): string[][] {
    return this.levels(subset).reverse();
  }
}
