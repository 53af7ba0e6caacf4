// The Machine: build order over the graph, parallel levels, partial start, rdk's error texts,
// retries, timeouts, optional dependencies, reconfiguration by diff, and close order.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { machineResources, type Machine } from "../../host/machine/machine.js";
import {
  config,
  eventually,
  genericApi,
  instance,
  probe,
  ProbeInstance,
  Recorder,
  startMachine,
  statusOf,
  testMachine,
} from "./support.js";

const machines: Machine[] = [];
after(() => Promise.all(machines.map((m) => m.close())));

function newMachine(recorder: Recorder, options: Parameters<typeof testMachine>[1] = {}, lines?: string[]): Machine {
  const m = testMachine(recorder, options, lines);
  machines.push(m);
  return m;
}

const key = (name: string) => `rdk:component:generic/${name}`;

/** a <- b, a <- c, b,c <- d (a diamond), d <- e (a chain), plus an independent f. */
function diamond() {
  return [
    probe("e", { deps: ["d"] }),
    probe("d", { deps: ["b", "c"] }),
    probe("b", { deps: ["a"], delay_ms: 5 }),
    probe("c", { deps: ["a"], delay_ms: 5 }),
    probe("a"),
    probe("f"),
  ];
}

describe("Machine: construction", () => {
  it("builds a chain and a diamond in dependency order, a level's resources in parallel", async () => {
    const rec = new Recorder();
    const m = await startMachine(newMachine(rec), config(diamond()));
    for (const n of ["a", "b", "c", "d", "e", "f"]) assert.deepEqual(statusOf(m, n), { state: "ready" }, n);
    const end = (n: string) => rec.index("build-end", n);
    const start = (n: string) => rec.index("build-start", n);
    assert.ok(start("b") > end("a") && start("c") > end("a"), "b and c wait for a");
    assert.ok(start("d") > end("b") && start("d") > end("c"), "d waits for b and c");
    assert.ok(start("e") > end("d"), "e waits for d");
    // b and c overlap: each starts before the other ends.
    assert.ok(start("b") < end("c") && start("c") < end("b"), "b and c build at the same time");
    // a and f are in the same first level.
    assert.ok(start("f") < end("a") && start("a") < end("f"), "a and f build at the same time");
    assert.deepEqual(m.dependenciesOf({ ...genericApi, name: "d" }).sort(), [key("b"), key("c")]);
    assert.equal(m.state, "running");
  });

  it("takes dependencies from depends_on as well as from validate", async () => {
    const rec = new Recorder();
    const m = await startMachine(newMachine(rec), config([probe("late", {}, { depends_on: ["early"] }), probe("early")]));
    assert.ok(rec.index("build-start", "late") > rec.index("build-end", "early"));
    assert.deepEqual(m.dependenciesOf({ ...genericApi, name: "late" }), [key("early")]);
  });

  it("builds at most 10 resources of a level at once", async () => {
    const rec = new Recorder();
    const many = Array.from({ length: 25 }, (_, i) => probe(`p${i}`, { delay_ms: 2 }));
    const m = await startMachine(newMachine(rec), config(many));
    assert.equal(m.entries().filter((e) => e.state === "ready").length, 25);
    assert.equal(rec.maxInFlight, 10);
  });

  it("rejects a cycle with rdk's text and keeps everything else running", async () => {
    const rec = new Recorder();
    const lines: string[] = [];
    const m = await startMachine(
      newMachine(rec, {}, lines),
      config([probe("x", { deps: ["y"] }), probe("y", { deps: ["x"] }), probe("z"), probe("w", { deps: ["z"] })]),
    );
    const cycle = "circular dependency - x already depends on y";
    assert.deepEqual(statusOf(m, "y"), { state: "unhealthy", error: `resource build error: ${cycle}` });
    assert.deepEqual(statusOf(m, "x"), {
      state: "unhealthy",
      error: `resource build error: dependency y is not ready yet; reason=resource ${key("y")} not available; reason=resource build error: ${cycle}`,
    });
    assert.deepEqual(statusOf(m, "z"), { state: "ready" });
    assert.deepEqual(statusOf(m, "w"), { state: "ready" });
    assert.equal(rec.count("build-start", "x") + rec.count("build-start", "y"), 0);
    assert.ok(lines.some((l) => l.includes("error adding dependency for resource as a child to parent") && l.includes(cycle)));
  });

  it("rejects a self-dependency", async () => {
    const rec = new Recorder();
    const m = await startMachine(newMachine(rec), config([probe("s", { deps: ["s"] }), probe("t")]));
    assert.deepEqual(statusOf(m, "s"), { state: "unhealthy", error: `resource build error: node cannot depend on itself: "${key("s")}"` });
    assert.deepEqual(statusOf(m, "t"), { state: "ready" });
  });

  it("reports an unknown model with rdk's text", async () => {
    const rec = new Recorder();
    const m = await startMachine(
      newMachine(rec),
      config([{ name: "u", api: "rdk:component:generic", model: "acme:test:nope" }, probe("ok")]),
    );
    assert.deepEqual(statusOf(m, "u"), {
      state: "unhealthy",
      error:
        "resource build error: unknown resource type: API rdk:component:generic with model acme:test:nope not registered; There may be no module in config that provides this model",
    });
    assert.deepEqual(statusOf(m, "ok"), { state: "ready" });
  });

  it("reports a missing dependency with rdk's text, and builds the resource once the dependency is added", async () => {
    const rec = new Recorder();
    const m = await startMachine(newMachine(rec), config([probe("needy", { deps: ["ghost", "other"] }), probe("other")]));
    assert.deepEqual(statusOf(m, "needy"), {
      state: "unhealthy",
      error: "resource build error: resource has unresolved dependencies not found in machine config or connected remotes: [ghost]",
    });
    assert.deepEqual(statusOf(m, "other"), { state: "ready" });
    const other = instance(m, "other");
    await m.reconfigure(machineResources(config([probe("needy", { deps: ["ghost", "other"] }), probe("other"), probe("ghost")])));
    assert.deepEqual(statusOf(m, "needy"), { state: "ready" });
    assert.equal(instance(m, "other"), other);
  });

  it("reports a validation error", async () => {
    const rec = new Recorder();
    const m = await startMachine(newMachine(rec), config([probe("bad", { invalid: "attribute pins.a is required" })]));
    assert.deepEqual(statusOf(m, "bad"), { state: "unhealthy", error: "resource config validation error: attribute pins.a is required" });
  });

  it("starts partially: a failing build leaves the others running", async () => {
    const rec = new Recorder();
    const m = await startMachine(newMachine(rec), config([probe("broken", { fail: "no such device" }), probe("fine"), probe("also", { deps: ["fine"] })]));
    assert.deepEqual(statusOf(m, "broken"), { state: "unhealthy", error: "resource build error: no such device" });
    assert.deepEqual(statusOf(m, "fine"), { state: "ready" });
    assert.deepEqual(statusOf(m, "also"), { state: "ready" });
    assert.throws(() => m.get(genericApi, "broken"), { name: "ResourceUnavailableError" });
    assert.throws(() => m.get(genericApi, "missing"), { name: "ResourceNotFoundError" });
  });

  it("retries a failed dependency, then builds what waits for it", async () => {
    const rec = new Recorder();
    const m = await startMachine(newMachine(rec, { retryIntervalMs: 20 }), config([probe("dep", { fail_times: 1 }), probe("user", { deps: ["dep"] })]));
    assert.deepEqual(statusOf(m, "dep"), { state: "unhealthy", error: "resource build error: planned failure 1" });
    assert.deepEqual(statusOf(m, "user"), {
      state: "unhealthy",
      error: `resource build error: dependency dep is not ready yet; reason=resource ${key("dep")} not available; reason=resource build error: planned failure 1`,
    });
    assert.equal(rec.count("build-start", "user"), 0);
    await eventually(() => statusOf(m, "user").state === "ready", "user is built after the retry");
    assert.equal(rec.count("build-start", "dep"), 2);
    assert.equal(rec.count("build-start", "user"), 1);
    assert.ok(rec.index("build-start", "user") > rec.index("build-end", "dep"));
  });

  it("times a build out, closes its late result, and builds it again", async () => {
    const rec = new Recorder();
    const lines: string[] = [];
    const m = newMachine(rec, { buildTimeoutMs: 30, retryIntervalMs: 20 }, lines);
    await startMachine(m, config([probe("slow", { hang_first_ms: 150 }), probe("quick")]));
    const text = `resource ${key("slow")} timed out after 30ms during reconfigure`;
    assert.deepEqual(statusOf(m, "slow"), { state: "unhealthy", error: `resource build error: ${text}` });
    assert.deepEqual(statusOf(m, "quick"), { state: "ready" });
    assert.ok(lines.some((l) => l.includes("\tWARN\t") && l.includes(text)));
    await eventually(() => statusOf(m, "slow").state === "ready", "slow is built on a retry");
    // The first attempt's result arrived late and was closed, never served.
    const [late, served] = rec.events.filter((e) => e.kind === "build-end" && e.name === "slow");
    assert.ok(late && served && late.kind === "build-end" && served.kind === "build-end");
    assert.ok(rec.events.some((e) => e.kind === "close" && e.id === late.id));
    assert.equal(instance(m, "slow").id, served.id);
  });

  it("passes optional dependencies when ready and rebuilds when one appears or goes away", async () => {
    const rec = new Recorder();
    const m = newMachine(rec);
    const user = probe("user", { optional: ["helper"] });
    await startMachine(m, config([user]));
    assert.deepEqual(instance(m, "user").optionalSeen, { helper: null });
    assert.deepEqual(m.dependenciesOf({ ...genericApi, name: "user" }), []);

    await m.reconfigure(machineResources(config([user, probe("helper")])));
    const helper = instance(m, "helper");
    assert.deepEqual(instance(m, "user").optionalSeen, { helper: helper.id });
    assert.equal(rec.count("build-start", "user"), 2);

    await m.reconfigure(machineResources(config([user])));
    assert.deepEqual(instance(m, "user").optionalSeen, { helper: null });
    assert.equal(rec.count("build-start", "user"), 3);
  });

  it("goes from initializing to running", async () => {
    const rec = new Recorder();
    const m = newMachine(rec);
    assert.equal(m.state, "initializing");
    const started = startMachine(m, config([probe("a", { delay_ms: 5 })]));
    assert.equal(m.state, "initializing");
    await started;
    assert.equal(m.state, "running");
  });
});

describe("Machine: reconfiguration", () => {
  it("rebuilds a changed resource and its dependents only; the others keep their instances", async () => {
    const rec = new Recorder();
    const m = await startMachine(newMachine(rec), config(diamond(), { revision: "r1" }));
    const before = Object.fromEntries(["a", "b", "c", "d", "e", "f"].map((n) => [n, instance(m, n)]));
    rec.clear();
    const next = diamond().map((c) => (c.name === "b" ? probe("b", { deps: ["a"], tag: 2 }) : c));
    await m.reconfigure(machineResources(config(next, { revision: "r2" })), "r2");
    for (const n of ["a", "c", "f"]) assert.equal(instance(m, n), before[n], `${n} untouched`);
    for (const n of ["b", "d", "e"]) assert.notEqual(instance(m, n), before[n], `${n} rebuilt`);
    // Closed dependents first, then built dependencies first.
    assert.deepEqual(rec.closeOrder(), ["e", "d", "b"]);
    assert.ok(rec.index("build-start", "b") > rec.index("close", "b"));
    assert.ok(rec.index("build-start", "d") > rec.index("build-end", "b"));
    assert.ok(rec.index("build-start", "e") > rec.index("build-end", "d"));
    // Every resource is at the new revision: rebuilt ones by their build, the others by being unchanged.
    assert.deepEqual(m.entries().map((e) => e.revision), ["r2", "r2", "r2", "r2", "r2", "r2"]);
    assert.equal(m.revision, "r2");
  });

  it("keeps a failed rebuild's old revision", async () => {
    const rec = new Recorder();
    const m = await startMachine(newMachine(rec, { retryIntervalMs: 60_000 }), config([probe("a"), probe("b")], { revision: "r1" }));
    await m.reconfigure(machineResources(config([probe("a", { fail: "broken now" }), probe("b")])), "r2");
    const rev = Object.fromEntries(m.entries().map((e) => [e.name.name, e.revision]));
    assert.deepEqual(rev, { a: "r1", b: "r2" });
    assert.deepEqual(statusOf(m, "a"), { state: "unhealthy", error: "resource build error: broken now" });
  });

  it("closes a removed resource together with its dependents", async () => {
    const rec = new Recorder();
    const m = await startMachine(newMachine(rec, { retryIntervalMs: 60_000 }), config(diamond()));
    const f = instance(m, "f");
    const a = instance(m, "a");
    rec.clear();
    const next = diamond().filter((c) => c.name !== "b");
    await m.reconfigure(machineResources(config(next)));
    assert.deepEqual(rec.closeOrder(), ["e", "d", "b"]);
    assert.equal(statusOf(m, "b").state, "absent");
    assert.deepEqual(statusOf(m, "d"), {
      state: "unhealthy",
      error: "resource build error: resource has unresolved dependencies not found in machine config or connected remotes: [b]",
    });
    assert.equal(statusOf(m, "e").state, "unhealthy");
    assert.equal(instance(m, "f"), f);
    assert.equal(instance(m, "a"), a);

    // The dependency comes back: its dependents are built again.
    await m.reconfigure(machineResources(config(diamond())));
    for (const n of ["b", "d", "e"]) assert.deepEqual(statusOf(m, n), { state: "ready" }, n);
    assert.equal(instance(m, "a"), a);
  });

  it("rebuilds on a model, depends_on or log_configuration change, not on a move in the file", async () => {
    const rec = new Recorder();
    const m = await startMachine(newMachine(rec), config([probe("a"), probe("b"), probe("c")]));
    const [a, b, c] = ["a", "b", "c"].map((n) => instance(m, n));
    await m.reconfigure(
      machineResources(
        config([
          probe("c", {}, { log_configuration: { level: "debug" } }),
          probe("b", {}, { depends_on: ["a"] }),
          probe("a"),
        ]),
      ),
    );
    assert.equal(instance(m, "a"), a);
    assert.notEqual(instance(m, "b"), b);
    assert.notEqual(instance(m, "c"), c);
    await m.reconfigure(machineResources(config([{ name: "a", api: "rdk:component:generic", model: "fake" }, probe("b", {}, { depends_on: ["a"] }), probe("c", {}, { log_configuration: { level: "debug" } })])));
    assert.ok(!(m.get(genericApi, "a") instanceof ProbeInstance), "a is now the fake generic");
  });

  it("turns a cycle introduced by an edit into an error on the edited resource", async () => {
    const rec = new Recorder();
    const m = await startMachine(newMachine(rec, { retryIntervalMs: 60_000 }), config([probe("p", { deps: ["q"] }), probe("q"), probe("r")]));
    const r = instance(m, "r");
    await m.reconfigure(machineResources(config([probe("p", { deps: ["q"] }), probe("q", { deps: ["p"] }), probe("r")])));
    assert.deepEqual(statusOf(m, "q"), { state: "unhealthy", error: "resource build error: circular dependency - p already depends on q" });
    assert.equal(statusOf(m, "p").state, "unhealthy");
    assert.equal(instance(m, "r"), r);
    // Fixing the file fixes the machine.
    await m.reconfigure(machineResources(config([probe("p", { deps: ["q"] }), probe("q"), probe("r")])));
    assert.deepEqual(statusOf(m, "p"), { state: "ready" });
    assert.deepEqual(statusOf(m, "q"), { state: "ready" });
  });
});

describe("Machine: close", () => {
  it("closes dependents before their dependencies", async () => {
    const rec = new Recorder();
    const m = await startMachine(testMachine(rec), config(diamond()));
    rec.clear();
    await m.close();
    const order = rec.closeOrder();
    assert.equal(order.length, 6);
    const at = (n: string) => order.indexOf(n);
    assert.ok(at("e") < at("d"));
    assert.ok(at("d") < at("b") && at("d") < at("c"));
    assert.ok(at("b") < at("a") && at("c") < at("a"));
    assert.ok(m.entries().every((e) => e.state === "removing"));
  });

  it("gives up on a close after the close timeout and goes on", async () => {
    const rec = new Recorder();
    const lines: string[] = [];
    const m = await startMachine(testMachine(rec, { closeTimeoutMs: 20 }, lines), config([probe("stuck", { close_ms: 300 }), probe("base"), probe("top", { deps: ["stuck"] })]));
    await m.close();
    assert.ok(lines.some((l) => l.includes(`resource ${key("stuck")} timed out after 20ms during close`)));
    assert.ok(rec.closeOrder().includes("base"));
    assert.ok(rec.index("close", "top") >= 0);
  });

  it("closes a build that finishes after close instead of serving it", async () => {
    const rec = new Recorder();
    const m = testMachine(rec);
    const started = startMachine(m, config([probe("slow", { delay_ms: 40 })]));
    await eventually(() => rec.count("build-start", "slow") === 1, "build started");
    await m.close();
    await started;
    await eventually(() => rec.count("close", "slow") === 1, "late instance closed");
    assert.throws(() => m.get(genericApi, "slow"));
  });
});
