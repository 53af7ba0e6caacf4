// The resource graph: levels, refused cycles with rdk's text, descendants.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DependencyEdgeError, ResourceGraph } from "../../host/machine/graph.js";

function graph(edges: [string, string][], nodes: string[] = []): ResourceGraph {
  const g = new ResourceGraph();
  for (const n of nodes) g.add(n);
  for (const [child, parent] of edges) {
    g.add(child);
    g.add(parent);
    g.addEdge(child, parent);
  }
  return g;
}

describe("ResourceGraph", () => {
  it("sorts a chain and a diamond into levels, dependencies first", () => {
    // a <- b <- d <- e, a <- c <- d
    const g = graph([["b", "a"], ["c", "a"], ["d", "b"], ["d", "c"], ["e", "d"]], ["a"]);
    assert.deepEqual(g.levels(), [["a"], ["b", "c"], ["d"], ["e"]]);
    assert.deepEqual(g.reverseLevels(), [["e"], ["d"], ["b", "c"], ["a"]]);
  });

  it("puts independent nodes in the first level, in insertion order", () => {
    const g = graph([["y", "x"]], ["z", "x"]);
    assert.deepEqual(g.levels(), [["z", "x"], ["y"]]);
  });

  it("orders a subset by the edges among its members only", () => {
    const g = graph([["b", "a"], ["c", "b"]]);
    assert.deepEqual(g.levels(new Set(["a", "c"])), [["a", "c"]]);
    assert.deepEqual(g.levels(new Set(["b", "c"])), [["b"], ["c"]]);
  });

  it("refuses a cycle with rdk's text and leaves the graph as it was", () => {
    const g = graph([["b", "a"], ["c", "b"]]);
    assert.throws(() => g.addEdge("a", "c"), (err: Error) => {
      assert.ok(err instanceof DependencyEdgeError);
      assert.equal(err.message, "circular dependency - c already depends on a");
      return true;
    });
    assert.throws(() => g.addEdge("a", "b"), { message: "circular dependency - b already depends on a" });
    assert.deepEqual(g.parents("a"), []);
    assert.deepEqual(g.levels(), [["a"], ["b"], ["c"]]);
  });

  it("refuses a self-dependency", () => {
    const g = graph([], ["a"]);
    assert.throws(() => g.addEdge("a", "a"), { message: "a cannot depend on itself" });
  });

  it("labels nodes in errors with the given function", () => {
    const g = new ResourceGraph((k) => k.split("/")[1]!);
    g.add("rdk:component:generic/x");
    g.add("rdk:component:generic/y");
    g.addEdge("rdk:component:generic/x", "rdk:component:generic/y");
    assert.throws(() => g.addEdge("rdk:component:generic/y", "rdk:component:generic/x"), {
      message: "circular dependency - x already depends on y",
    });
  });

  it("finds every descendant and forgets a removed node's edges", () => {
    const g = graph([["b", "a"], ["c", "a"], ["d", "b"], ["d", "c"], ["e", "d"], ["q", "p"]]);
    assert.deepEqual([...g.withDescendants(["b"])].sort(), ["b", "d", "e"]);
    assert.deepEqual([...g.withDescendants(["a"])].sort(), ["a", "b", "c", "d", "e"]);
    assert.equal(g.dependsOn("e", "a"), true);
    assert.equal(g.dependsOn("a", "e"), false);
    g.remove("d");
    assert.deepEqual(g.children("b"), []);
    assert.deepEqual(g.parents("e"), []);
    g.removeParentEdges("b");
    assert.deepEqual(g.children("a"), ["c"]);
  });
});
