// Logging: rdk's logger names per resource, `log` patterns (glob, last match wins), per-resource
// log_configuration winning over them, `debug: true` over everything, levels changed at
// reconfigure, and deduplication of noisy lines.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseMachineConfig } from "../../host/config/load.js";
import { namedLogger } from "../../host/log/logger.js";
import { globToRegExp, LogRegistry, logSettingsFromConfig, resourceLoggerName } from "../../host/log/registry.js";
import { Machine, machineResources } from "../../host/machine/machine.js";
import { Reconfigurer } from "../../host/machine/reconfigure.js";
import { config, probe, Recorder, testRegistry } from "../machine/support.js";

function capture(opts: { level?: "debug" | "info" | "warn" | "error"; debug?: boolean; now?: () => number } = {}) {
  const lines: string[] = [];
  const registry = new LogRegistry({ ...opts, out: { write: (s: string) => lines.push(s) } as unknown as NodeJS.WritableStream });
  /** [LEVEL, logger name, message] of each line. */
  const parsed = () => lines.map((l) => l.trimEnd().split("\t")).map((p) => [p[1], p[2], p[4]]);
  return { lines, registry, parsed };
}

describe("log patterns", () => {
  it("turns rdk globs into whole-name matches: * is a wildcard, . is literal", () => {
    const re = globToRegExp("rdk.resource_manager.*");
    assert.ok(re.test("rdk.resource_manager.rdk:component:motor/m1"));
    assert.ok(re.test("rdk.resource_manager."));
    assert.ok(!re.test("rdkXresource_manager.x"));
    assert.ok(!re.test("x.rdk.resource_manager.y"));
    assert.ok(globToRegExp("rdk.*.webrtc").test("rdk.networking.webrtc"));
    assert.ok(!globToRegExp("rdk.networking").test("rdk.networking.webrtc"));
    assert.ok(globToRegExp("rdk.resource_manager.rdk:component:motor/m+1").test("rdk.resource_manager.rdk:component:motor/m+1"));
  });

  it("applies patterns top to bottom, the last match winning, and the base level elsewhere", () => {
    const { registry } = capture();
    registry.update({
      patterns: [
        { pattern: "rdk.*", level: "warn" },
        { pattern: "rdk.networking.*", level: "debug" },
        { pattern: "rdk.networking.webrtc", level: "error" },
      ],
    });
    assert.equal(registry.levelOf("rdk.resource_manager.x"), "warn");
    assert.equal(registry.levelOf("rdk.networking.session_manager"), "debug");
    assert.equal(registry.levelOf("rdk.networking.webrtc"), "error");
    assert.equal(registry.levelOf("other"), "info");
  });

  it("lets a resource's log_configuration win over the global patterns", () => {
    const cfg = parseMachineConfig(
      JSON.stringify({
        log: [{ pattern: "rdk.resource_manager.*", level: "error" }],
        components: [
          { name: "m1", api: "rdk:component:motor", model: "fake", log_configuration: { level: "debug" } },
          { name: "m2", api: "rdk:component:motor", model: "fake" },
        ],
      }),
      "log.json",
    );
    const settings = logSettingsFromConfig(cfg);
    assert.deepEqual(settings.patterns, [
      { pattern: "rdk.resource_manager.*", level: "error" },
      { pattern: "rdk.resource_manager.rdk:component:motor/m1", level: "debug" },
    ]);
    const { registry } = capture();
    registry.update(settings);
    assert.equal(registry.levelOf(resourceLoggerName("rdk:component:motor/m1")), "debug");
    assert.equal(registry.levelOf(resourceLoggerName("rdk:component:motor/m2")), "error");
  });

  it("puts everything at debug with debug: true, whatever the patterns say", () => {
    const { registry, parsed } = capture();
    registry.update({ debug: true, patterns: [{ pattern: "*", level: "error" }] });
    assert.equal(registry.levelOf("rdk.resource_manager.x"), "debug");
    namedLogger(registry.root, "resource_manager.x").debug("fine detail");
    assert.deepEqual(parsed(), [["DEBUG", "rdk.resource_manager.x", "fine detail"]]);
    // The -debug flag does the same, whatever the config says.
    const forced = capture({ debug: true });
    forced.registry.update({ debug: false, patterns: [{ pattern: "*", level: "error" }] });
    assert.equal(forced.registry.levelOf("rdk.a"), "debug");
  });

  it("changes the level of loggers already handed out", () => {
    const { registry, parsed } = capture();
    const log = namedLogger(registry.root, "resource_manager.rdk:component:motor/m1");
    assert.equal(log, namedLogger(registry.root, "resource_manager.rdk:component:motor/m1"), "one logger per name");
    log.debug("hidden");
    registry.update({ patterns: [{ pattern: "rdk.resource_manager.*", level: "debug" }] });
    log.debug("shown");
    registry.update({ patterns: [{ pattern: "rdk.resource_manager.*", level: "error" }] });
    log.warn("hidden too");
    log.error("shown too");
    assert.deepEqual(parsed().map((p) => p[2]), ["shown", "shown too"]);
  });

  it("names each resource's logger rdk.resource_manager.<full name> and honours its level", async () => {
    const { registry, lines } = capture();
    const cfg = config(
      [probe("quiet", { fail: "boom" }), probe("loud", {}, { log_configuration: { level: "debug" } })],
      { log: [{ pattern: "rdk.resource_manager.*", level: "error" }] },
    );
    registry.update(logSettingsFromConfig(cfg));
    const m = new Machine(testRegistry(new Recorder()), registry.root);
    await m.start(machineResources(cfg));
    await m.close();
    const fields = lines.map((l) => l.trimEnd().split("\t"));
    const quiet = "rdk.resource_manager.rdk:component:generic/quiet";
    const loud = "rdk.resource_manager.rdk:component:generic/loud";
    assert.ok(fields.some((p) => p[1] === "ERROR" && p[2] === quiet && p[4] === "resource build error: boom"));
    assert.ok(fields.some((p) => p[1] === "DEBUG" && p[2] === loud && p[4] === "probe building"));
    assert.ok(!fields.some((p) => p[2] === quiet && p[4] === "probe building"));
    // The resource manager itself stays at the base level (info).
    assert.ok(fields.some((p) => p[1] === "INFO" && p[2] === "rdk.resource_manager" && p[4] === "Now constructing resource"));
  });
});

describe("log settings at reconfigure", () => {
  it("applies a new config's debug, patterns and log_configuration to running loggers", async () => {
    const { registry, parsed } = capture();
    const first = config([probe("a")]);
    registry.update(logSettingsFromConfig(first));
    const m = new Machine(testRegistry(new Recorder()), registry.root);
    await m.start(machineResources(first));
    const r = new Reconfigurer({ machine: m, logger: registry.root, current: first });
    const a = namedLogger(registry.root, "resource_manager.rdk:component:generic/a");
    const net = namedLogger(registry.root, "networking.webrtc");

    await r.submit(config([probe("a")], { debug: true }));
    assert.equal(registry.levelOf("rdk.networking.webrtc"), "debug");
    net.debug("now visible");

    await r.submit(config([probe("a", {}, { log_configuration: { level: "warn" } })], { log: [{ pattern: "rdk.networking.*", level: "error" }] }));
    a.info("hidden");
    a.warn("shown");
    net.warn("hidden");
    net.error("shown");
    assert.deepEqual(parsed().filter((p) => p[2] !== undefined && ["rdk.networking.webrtc", "rdk.resource_manager.rdk:component:generic/a"].includes(p[1]!)).map((p) => [p[0], p[2]]), [
      ["DEBUG", "now visible"],
      ["WARN", "shown"],
      ["ERROR", "shown"],
    ]);
    r.close();
    await m.close();
  });
});

describe("log deduplication", () => {
  const noisy = "Message logged 3 times; suppressing for rest of window (1m0s): reading failed";

  it("logs a line 3 times, then a notice, then nothing until the window ends; then the count", () => {
    let now = 0;
    const { registry, parsed } = capture({ now: () => now });
    const log = namedLogger(registry.root, "resource_manager.s");
    for (let i = 0; i < 6; i++) log.warn({ pin: 7 }, "reading failed");
    log.warn({ pin: 8 }, "reading failed"); // different fields: a different line
    assert.deepEqual(parsed().map((p) => p[2]), ["reading failed", "reading failed", "reading failed", noisy, "reading failed"]);
    now += 60_001;
    log.info("something else");
    assert.deepEqual(parsed().slice(5), [
      ["WARN", "rdk.resource_manager.s", "Message logged 6 times in past 1m0s: reading failed"],
      ["INFO", "rdk.resource_manager.s", "something else"],
    ]);
    // A new window: the line is shown again.
    log.warn({ pin: 7 }, "reading failed");
    assert.equal(parsed().at(-1)![2], "reading failed");
  });

  it("keeps a window per logger", () => {
    const { registry, parsed } = capture({ now: () => 0 });
    const a = namedLogger(registry.root, "a");
    const b = namedLogger(registry.root, "b");
    for (let i = 0; i < 3; i++) a.info("same");
    b.info("same");
    assert.equal(parsed().filter((p) => p[2] === "same").length, 4);
  });

  it("is off with disable_log_deduplication, with debug, and for a logger at debug", () => {
    const off = capture({ now: () => 0 });
    off.registry.update({ deduplicate: false });
    const debug = capture({ now: () => 0 });
    debug.registry.update({ debug: true });
    const atDebug = capture({ now: () => 0 });
    atDebug.registry.update({ patterns: [{ pattern: "rdk.chatty", level: "debug" }] });
    for (const { registry, parsed } of [off, debug, atDebug]) {
      const log = namedLogger(registry.root, "chatty");
      for (let i = 0; i < 6; i++) log.info("again");
      assert.equal(parsed().filter((p) => p[2] === "again").length, 6);
    }
  });

  it("is driven by the config's disable_log_deduplication", () => {
    const cfg = parseMachineConfig('{"disable_log_deduplication": true}', "d.json");
    assert.equal(logSettingsFromConfig(cfg).deduplicate, false);
    assert.equal(logSettingsFromConfig(parseMachineConfig("{}", "d.json")).deduplicate, true);
  });
});
