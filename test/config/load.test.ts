import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadMachineConfig, parseMachineConfig } from "../../host/config/load.js";
import {
  DEFAULT_BIND_ADDRESS,
  formatGoDuration,
  parseApi,
  parseGoDuration,
  parseModel,
  validateResourceName,
} from "../../host/config/schema.js";
import type { MachineConfig } from "../../host/config/schema.js";

const lines = (...ls: string[]) => ls.join("\n");

/** Asserts that parsing fails with exactly this message (issues joined by newlines). */
function assertConfigError(text: string, message: string, source = "machine.json"): ConfigError {
  let caught: unknown;
  try {
    parseMachineConfig(text, source);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  assert.equal(caught.message, message);
  return caught;
}

const goodConfig = lines(
  "{",
  '  "network": { "fqdn": "rover.local", "bind_address": "0.0.0.0:8080", "sessions": { "heartbeat_window": "45s" } },',
  '  "auth": { "handlers": [ { "type": "api-key", "config": { "keys": ["key-1"], "key-1": "secret-1", "key-2": "secret-2" } } ] },',
  '  "modules": [ { "name": "rpi", "type": "local", "executable_path": "/opt/rpi/run.sh", "env": { "A": "1" }, "future": 1 } ],',
  '  "components": [',
  '    { "name": "board", "api": "rdk:component:board", "model": "viam:raspberry-pi:rpi" },',
  '    { "name": "left", "type": "motor", "model": "fake", "attributes": { "max_rpm": 200 }, "depends_on": ["board", "arm-pi:enc"],',
  '      "frame": { "parent": "world", "translation": { "x": 1, "y": 2, "z": 3 } }, "log_configuration": { "level": "WARNING" },',
  '      "service_configs": [ { "type": "data_manager", "attributes": { "capture_methods": [] } } ], "some_future_key": true }',
  "  ],",
  '  "services": [ { "api": "rdk:service:data_manager", "attributes": { "sync_disabled": true } } ],',
  '  "remotes": [ { "name": "arm-pi", "address": "arm-pi.local:8080", "prefix": "arm_", "reconnect_interval": "2s",',
  '                 "auth": { "entity": "k", "credentials": { "type": "api-key", "payload": "p" } }, "part_config": { "components": [] } } ],',
  '  "log": [ { "pattern": "rdk.*", "level": "debug" } ],',
  '  "maintenance": { "sensor_name": "rdk:component:sensor/s1", "maintenance_allowed_key": "ok" },',
  '  "revision": "r7",',
  '  "debug": true,',
  '  "jobs": [ { "name": "j" } ],',
  '  "cloud": null',
  "}",
);

const expectedGood: MachineConfig = {
  source: "machine.json",
  network: {
    fqdn: "rover.local",
    bindAddress: "0.0.0.0:8080",
    bindAddressDefaultSet: false,
    noTls: false,
    sessions: { heartbeatWindowMs: 45_000 },
    trafficTunnelEndpoints: [],
  },
  auth: {
    handlers: [
      {
        type: "api-key",
        config: { keys: ["key-1"], "key-1": "secret-1", "key-2": "secret-2" },
        keys: ["key-1"],
        apiKeys: { "key-1": "secret-1", "key-2": "secret-2" },
      },
    ],
    tlsAuthEntities: [],
  },
  modules: [
    {
      name: "rpi",
      type: "local",
      executablePath: "/opt/rpi/run.sh",
      logLevel: "",
      env: { A: "1" },
      tcpMode: false,
      firstRunTimeoutMs: 3_600_000,
      origin: { source: "machine.json", path: "modules[0]", line: 4, column: 16 },
    },
  ],
  components: [
    {
      name: "board",
      api: { namespace: "rdk", type: "component", subtype: "board" },
      apiString: "rdk:component:board",
      model: { namespace: "viam", family: "raspberry-pi", name: "rpi" },
      modelString: "viam:raspberry-pi:rpi",
      attributes: {},
      dependsOn: [],
      serviceConfigs: [],
      origin: { source: "machine.json", path: "components[0]", line: 6, column: 5 },
    },
    {
      name: "left",
      api: { namespace: "rdk", type: "component", subtype: "motor" },
      apiString: "rdk:component:motor",
      model: { namespace: "rdk", family: "builtin", name: "fake" },
      modelString: "rdk:builtin:fake",
      attributes: { max_rpm: 200 },
      dependsOn: ["board", "arm-pi:enc"],
      frame: { parent: "world", translation: { x: 1, y: 2, z: 3 } },
      logConfiguration: { level: "warn" },
      serviceConfigs: [
        {
          api: { namespace: "rdk", type: "service", subtype: "data_manager" },
          apiString: "rdk:service:data_manager",
          attributes: { capture_methods: [] },
        },
      ],
      origin: { source: "machine.json", path: "components[1]", line: 7, column: 5 },
    },
  ],
  services: [
    {
      name: "builtin",
      api: { namespace: "rdk", type: "service", subtype: "data_manager" },
      apiString: "rdk:service:data_manager",
      model: { namespace: "rdk", family: "builtin", name: "builtin" },
      modelString: "rdk:builtin:builtin",
      attributes: { sync_disabled: true },
      dependsOn: [],
      serviceConfigs: [],
      origin: { source: "machine.json", path: "services[0]", line: 11, column: 17 },
    },
  ],
  remotes: [
    {
      name: "arm-pi",
      address: "arm-pi.local:8080",
      auth: { entity: "k", credentials: { type: "api-key", payload: "p" } },
      insecure: false,
      prefix: "arm_",
      connectionCheckIntervalMs: 10_000,
      reconnectIntervalMs: 2000,
      serviceConfigs: [],
      partConfig: { components: [] },
      origin: { source: "machine.json", path: "remotes[0]", line: 12, column: 16 },
    },
  ],
  log: [{ pattern: "rdk.*", level: "debug" }],
  maintenance: { sensorName: "rdk:component:sensor/s1", maintenanceAllowedKey: "ok" },
  revision: "r7",
  debug: true,
  enableWebProfile: false,
  disableLogDeduplication: false,
  extra: { jobs: [{ name: "j" }], cloud: null },
};

describe("parseMachineConfig: valid configs", () => {
  it("normalizes a full config", () => {
    assert.deepEqual(parseMachineConfig(goodConfig, "machine.json"), expectedGood);
  });

  it("fills in defaults for an empty object", () => {
    const cfg = parseMachineConfig("{}", "empty.json");
    assert.deepEqual(cfg, {
      source: "empty.json",
      components: [],
      services: [],
      remotes: [],
      modules: [],
      network: {
        fqdn: "",
        bindAddress: DEFAULT_BIND_ADDRESS,
        bindAddressDefaultSet: true,
        noTls: false,
        sessions: { heartbeatWindowMs: 2000 },
        trafficTunnelEndpoints: [],
      },
      auth: { handlers: [], tlsAuthEntities: [] },
      log: [],
      debug: false,
      enableWebProfile: false,
      revision: "",
      disableLogDeduplication: false,
      extra: {},
    } satisfies MachineConfig);
  });

  it("treats null like an absent field, as Go does", () => {
    const cfg = parseMachineConfig(
      '{"components": [{"name": "s", "api": "rdk:component:sensor", "model": "fake", "attributes": null, "depends_on": null}], "network": null}',
      "n.json",
    );
    assert.deepEqual(cfg.components[0]!.attributes, {});
    assert.deepEqual(cfg.components[0]!.dependsOn, []);
    assert.equal(cfg.network.bindAddress, DEFAULT_BIND_ADDRESS);
  });

  it("accepts the legacy namespace+type pair and object forms of api and model", () => {
    const cfg = parseMachineConfig(
      lines(
        '{"components": [',
        '  {"name": "a", "namespace": "acme", "type": "gizmo", "model": {"namespace": "acme", "model_family": "demo", "name": "g1"}},',
        '  {"name": "b", "api": {"namespace": "rdk", "type": "component", "subtype": "arm"}, "model": "rdk:builtin:fake", "type": "ignored"}',
        "]}",
      ),
      "legacy.json",
    );
    assert.equal(cfg.components[0]!.apiString, "acme:component:gizmo");
    assert.equal(cfg.components[0]!.modelString, "acme:demo:g1");
    assert.equal(cfg.components[1]!.apiString, "rdk:component:arm");
  });

  it("turns a remote's legacy secret into robot-location-secret credentials", () => {
    const cfg = parseMachineConfig('{"remotes": [{"name": "r", "address": "r.local:8080", "secret": "s3"}]}', "r.json");
    assert.deepEqual(cfg.remotes[0]!.auth, { credentials: { type: "robot-location-secret", payload: "s3" } });
  });

  it("allows the same name under different APIs", () => {
    const cfg = parseMachineConfig(
      '{"components": [{"name": "x", "api": "rdk:component:motor", "model": "fake"}, {"name": "x", "api": "rdk:component:sensor", "model": "fake"}]}',
      "same.json",
    );
    assert.equal(cfg.components.length, 2);
  });

  it("treats a heartbeat_window of 0 as the default", () => {
    const cfg = parseMachineConfig('{"network": {"sessions": {"heartbeat_window": "0s"}}}', "hb.json");
    assert.equal(cfg.network.sessions.heartbeatWindowMs, 2000);
  });

  it("accepts a heartbeat_window at both ends of the range", () => {
    for (const [text, ms] of [["30ms", 30], ["1m", 60_000]] as const) {
      const cfg = parseMachineConfig(`{"network": {"sessions": {"heartbeat_window": "${text}"}}}`, "hb.json");
      assert.equal(cfg.network.sessions.heartbeatWindowMs, ms);
    }
  });

  it("loads a file from disk", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sprocket-config-"));
    try {
      const file = join(dir, "machine.json");
      await writeFile(file, goodConfig);
      const cfg = await loadMachineConfig(file);
      assert.deepEqual(cfg, { ...expectedGood, ...withSource(expectedGood, file), source: file });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

function withSource(cfg: MachineConfig, source: string): Partial<MachineConfig> {
  const fix = <T extends { origin?: { source: string } }>(list: T[]): T[] =>
    list.map((e) => ({ ...e, ...(e.origin ? { origin: { ...e.origin, source } } : {}) }));
  return {
    components: fix(cfg.components),
    services: fix(cfg.services),
    remotes: fix(cfg.remotes),
    modules: fix(cfg.modules),
  };
}

describe("parseMachineConfig: syntax errors", () => {
  it("reports an empty file", () => {
    assertConfigError("", "machine.json:1:1: empty file: expected a JSON object");
    assertConfigError("\n  \n", "machine.json:3:1: empty file: expected a JSON object");
  });

  it("reports trailing garbage", () => {
    assertConfigError(lines("{", '  "debug": true', "}", "oops"), 'machine.json:4:1: unexpected "oops" after the end of the JSON value');
    assertConfigError('{"debug": true}{}', 'machine.json:1:16: unexpected "{" after the end of the JSON value');
  });

  it("reports a missing comma", () => {
    assertConfigError(lines("{", '  "debug": true', '  "revision": "r1"', "}"), "machine.json:3:3: expected ',' before this value");
  });

  it("reports a half-written file", () => {
    assertConfigError(lines("{", '  "components": [', '    { "name": "a"'), "machine.json:3:18: unexpected end of file: expected '}'");
    assertConfigError('{"components": [', "machine.json:1:17: unexpected end of file: expected ']'");
    assertConfigError('{"revision": "r1', "machine.json:1:14: unterminated string");
  });

  it("reports trailing commas and comments, which JSON does not allow", () => {
    assertConfigError(lines("{", '  "debug": true,', "}"), "machine.json:3:1: trailing comma is not allowed in JSON");
    assertConfigError('{"log": [1,]}', "machine.json:1:12: trailing comma is not allowed in JSON");
    assertConfigError(lines("{", "  // note", '  "debug": true', "}"), "machine.json:2:3: comments are not allowed in JSON");
  });

  it("reports bad tokens", () => {
    assertConfigError("{'debug': true}", "machine.json:1:2: unexpected \"'debug'\"");
    assertConfigError('{"a": 01}', "machine.json:1:8: numbers may not have leading zeros");
  });
});

describe("parseMachineConfig: shape errors", () => {
  it("names the file, line:column, path and the problem", () => {
    assertConfigError(
      lines(
        "{",
        '  "components": [',
        '    { "name": "m1", "api": "rdk:component:motor", "model": "fake" },',
        "    {",
        '      "name": "m2",',
        '      "api": "rdk:component:motor",',
        '      "model":42',
        "    }",
        "  ]",
        "}",
      ),
      "examples/bad.json:7:15: components[1].model: expected a string, got 42",
      "examples/bad.json",
    );
  });

  it("reports nested attribute-level type errors with their path", () => {
    assertConfigError(
      lines("{", '  "modules": [', '    { "name": "m", "type": "local", "executable_path": "/x", "env": { "PORT": 8080 } }', "  ]", "}"),
      "machine.json:3:79: modules[0].env.PORT: expected a string, got 8080",
    );
  });

  it("reports a missing required field at the enclosing object", () => {
    assertConfigError(
      lines("{", '  "remotes": [', '    { "name": "r1" }', "  ]", "}"),
      "machine.json:3:5: remotes[0].address: missing required field",
    );
    assertConfigError(
      '{"components": [{"name": "f", "api": "rdk:component:base", "model": "fake", "frame": {"translation": {}}}]}',
      "machine.json:1:86: components[0].frame.parent: missing required field",
    );
  });

  it("reports wrong top-level types and enum values", () => {
    assertConfigError("[]", "machine.json:1:1: expected an object, got an array");
    assertConfigError('{"components": {}}', "machine.json:1:16: components: expected an array, got an object");
    assertConfigError('{"remotes": [{"name": "r", "address": "a:1", "prefix": true}]}', "machine.json:1:56: remotes[0].prefix: expected a string, got true");
    assertConfigError(
      '{"modules": [{"name": "m", "type": "docker", "executable_path": "/x"}]}',
      'machine.json:1:36: modules[0].type: expected one of "local", "registry", got "docker"',
    );
  });

  it("reports a field of an object-form api", () => {
    assertConfigError(
      '{"components": [{"name": "a", "api": {"namespace": "rdk", "type": 3}, "model": "fake"}]}',
      "machine.json:1:67: components[0].api.type: expected a string, got 3",
    );
  });

  it("lists every shape problem in document order", () => {
    assertConfigError(
      lines("{", '  "debug": "yes",', '  "revision": 7', "}"),
      lines('machine.json:2:12: debug: expected a boolean, got "yes"', "machine.json:3:15: revision: expected a string, got 7"),
    );
  });

  it("ignores unknown keys", () => {
    const cfg = parseMachineConfig('{"components": [{"name": "a", "api": "rdk:component:motor", "model": "fake", "whatever": [1]}], "agent": {}}', "u.json");
    assert.equal(cfg.components.length, 1);
    assert.deepEqual(cfg.extra, { agent: {} });
  });
});

describe("parseMachineConfig: semantic errors", () => {
  it("rejects duplicate resource names, naming both entries", () => {
    assertConfigError(
      lines(
        "{",
        '  "components": [',
        '    { "name": "left", "api": "rdk:component:motor", "model": "fake" },',
        '    { "name": "right", "api": "rdk:component:motor", "model": "fake" },',
        '    { "name": "left", "type": "motor", "model": "gpio" }',
        "  ]",
        "}",
      ),
      'machine.json:5:15: components[2].name: duplicate resource "left" of API rdk:component:motor; first defined at components[0].name (3:15)',
    );
  });

  it("rejects duplicate remote and module names", () => {
    assertConfigError(
      '{"remotes": [{"name": "r", "address": "a:1"}, {"name": "r", "address": "b:1"}]}',
      'machine.json:1:56: remotes[1].name: duplicate remote name "r"; first defined at remotes[0].name (1:23)',
    );
  });

  it("keeps depends_on names that refer to nothing", () => {
    const cfg = parseMachineConfig('{"components": [{"name": "a", "api": "rdk:component:motor", "model": "fake", "depends_on": ["nowhere"]}]}', "d.json");
    assert.deepEqual(cfg.components[0]!.dependsOn, ["nowhere"]);
  });

  it("validates resource names like rdk (no remote:name form in a name)", () => {
    assertConfigError(
      '{"components": [{"name": "arm-pi:enc", "api": "rdk:component:encoder", "model": "fake"}]}',
      'machine.json:1:26: components[0].name: name "arm-pi:enc" must start with a letter or number and must only contain letters, numbers, dashes, and underscores',
    );
    assertConfigError(
      `{"components": [{"name": "${"n".repeat(61)}", "api": "rdk:component:encoder", "model": "fake"}]}`,
      `machine.json:1:26: components[0].name: name "${"n".repeat(61)}" must be 60 characters or fewer`,
    );
    assertConfigError(
      '{"components": [{"api": "rdk:component:encoder", "model": "fake"}]}',
      "machine.json:1:17: components[0].name: missing required field",
    );
  });

  it("rejects bad api and model strings with rdk's texts", () => {
    assertConfigError(
      '{"components": [{"name": "a", "api": "motor", "model": "fake"}]}',
      "machine.json:1:38: components[0].api: not a valid API config string. Input: `motor`",
    );
    assertConfigError(
      '{"components": [{"name": "a", "api": "rdk:component:motor", "model": "a:b"}]}',
      "machine.json:1:70: components[0].model: not a valid Model config string. Input: `a:b`",
    );
    assertConfigError(
      '{"components": [{"name": "a", "api": "rdk:component:motor"}]}',
      "machine.json:1:17: components[0].model: missing required field",
    );
    assertConfigError(
      '{"components": [{"name": "a", "model": "fake"}]}',
      'machine.json:1:17: components[0].api: missing required field (set "api", e.g. "rdk:component:motor", or the legacy "type")',
    );
  });

  it("requires both tls_cert_file and tls_key_file or neither", () => {
    assertConfigError(
      lines("{", '  "network": {', '    "tls_cert_file": "/etc/cert.pem"', "  }", "}"),
      "machine.json:3:22: network.tls_cert_file: must provide both tls_cert_file and tls_key_file",
    );
    assertConfigError(
      '{"network": {"tls_key_file": "/etc/key.pem"}}',
      "machine.json:1:30: network.tls_key_file: must provide both tls_cert_file and tls_key_file",
    );
  });

  it("checks the heartbeat window range and syntax", () => {
    assertConfigError(
      '{"network": {"sessions": {"heartbeat_window": "20ms"}}}',
      'machine.json:1:47: network.sessions.heartbeat_window: heartbeat_window must be between [30ms, 1m], got "20ms"',
    );
    assertConfigError(
      '{"network": {"sessions": {"heartbeat_window": "1m1s"}}}',
      'machine.json:1:47: network.sessions.heartbeat_window: heartbeat_window must be between [30ms, 1m], got "1m1s"',
    );
    assertConfigError(
      '{"network": {"sessions": {"heartbeat_window": "2"}}}',
      'machine.json:1:47: network.sessions.heartbeat_window: time: missing unit in duration "2"',
    );
  });

  it("checks bind_address like Go's net.SplitHostPort", () => {
    assertConfigError(
      '{"network": {"bind_address": "localhost"}}',
      "machine.json:1:30: network.bind_address: error validating bind_address: address localhost: missing port in address",
    );
  });

  it("accepts only api-key auth handlers", () => {
    assertConfigError(
      '{"auth": {"handlers": [{"type": "robot-location-secret", "config": {"secret": "s"}}]}}',
      'machine.json:1:33: auth.handlers[0].type: do not know how to handle auth for "robot-location-secret"',
    );
    assertConfigError(
      '{"auth": {"handlers": [{"type": "external"}]}}',
      "machine.json:1:33: auth.handlers[0].type: robot cannot issue external auth tokens",
    );
    assertConfigError('{"auth": {"handlers": [{"config": {}}]}}', "machine.json:1:24: auth.handlers[0].type: handler must have type");
    assertConfigError(
      '{"auth": {"handlers": [{"type": "api-key", "config": {"keys": ["a"], "a": "s"}}, {"type": "api-key", "config": {"keys": ["b"], "b": "t"}}]}}',
      'machine.json:1:91: auth.handlers[1].type: duplicate handler type "api-key"',
    );
  });

  it("applies rdk's rule that an api-key handler needs a non-empty keys list", () => {
    assertConfigError(
      '{"auth": {"handlers": [{"type": "api-key", "config": {"id1": "secret"}}]}}',
      "machine.json:1:54: auth.handlers[0].config.keys: keys is required",
    );
    assertConfigError(
      '{"auth": {"handlers": [{"type": "api-key", "config": {"keys": ["id1"]}}]}}',
      'machine.json:1:54: auth.handlers[0].config: "api-key" handler requires non-empty API keys',
    );
    assertConfigError(
      '{"auth": {"handlers": [{"type": "api-key", "config": {"keys": ["id1"], "id1": 5}}]}}',
      "machine.json:1:79: auth.handlers[0].config.id1: expected a string, got 5",
    );
  });

  it("checks log levels", () => {
    assertConfigError('{"log": [{"pattern": "rdk.*", "level": "loud"}]}', 'machine.json:1:40: log[0].level: unknown log level: "loud"');
  });

  it("lists every semantic problem in document order", () => {
    assertConfigError(
      lines(
        "{",
        '  "network": { "tls_key_file": "k.pem" },',
        '  "components": [ { "name": "a b", "api": "rdk:component:motor", "model": "fake" } ]',
        "}",
      ),
      lines(
        "machine.json:2:32: network.tls_key_file: must provide both tls_cert_file and tls_key_file",
        'machine.json:3:29: components[0].name: name "a b" must start with a letter or number and must only contain letters, numbers, dashes, and underscores',
      ),
    );
  });

  it("exposes the issues as data", () => {
    const err = assertConfigError('{"revision": 1}', "machine.json:1:14: revision: expected a string, got 1");
    assert.deepEqual(err.issues, [{ source: "machine.json", line: 1, column: 14, path: "revision", message: "expected a string, got 1" }]);
  });
});

describe("loadMachineConfig", () => {
  it("reports an unreadable file as a ConfigError naming it", async () => {
    const missing = join(tmpdir(), "sprocket-no-such-dir", "machine.json");
    await assert.rejects(loadMachineConfig(missing), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, new RegExp(`^${missing.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: cannot read config: ENOENT`));
      return true;
    });
  });

  it("reports syntax errors with the path it was given", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sprocket-config-"));
    try {
      const file = join(dir, "half.json");
      await writeFile(file, '{\n  "components": [\n');
      await assert.rejects(loadMachineConfig(file), { name: "ConfigError", message: `${file}:3:1: unexpected end of file: expected ']'` });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("schema helpers", () => {
  it("parseApi", () => {
    assert.deepEqual(parseApi("rdk:component:motor"), { namespace: "rdk", type: "component", subtype: "motor" });
    assert.throws(() => parseApi("motor"), { message: "not a valid API config string. Input: `motor`" });
  });

  it("parseModel", () => {
    assert.deepEqual(parseModel("fake"), { namespace: "rdk", family: "builtin", name: "fake" });
    assert.deepEqual(parseModel("viam:raspberry-pi:rpi"), { namespace: "viam", family: "raspberry-pi", name: "rpi" });
    assert.throws(() => parseModel("a b"), { message: "not a valid Model config string. Input: `a b`" });
  });

  it("parseGoDuration follows Go's grammar", () => {
    const cases: [string, number][] = [
      ["1m30s", 90_000], ["2s", 2000], ["250ms", 250], ["1.5h", 5_400_000], ["0", 0], ["-1s", -1000],
      ["+2m", 120_000], ["1h2m3s4ms", 3_723_004], ["1500us", 1.5], ["1500\u00b5s", 1.5], ["10ns", 0.00001], [".5s", 500], ["1.s", 1000],
    ];
    for (const [text, ms] of cases) assert.equal(parseGoDuration(text), ms, text);
    assert.throws(() => parseGoDuration(""), { message: 'time: invalid duration ""' });
    assert.throws(() => parseGoDuration("5"), { message: 'time: missing unit in duration "5"' });
    assert.throws(() => parseGoDuration("1d"), { message: 'time: unknown unit "d" in duration "1d"' });
    assert.throws(() => parseGoDuration("s"), { message: 'time: invalid duration "s"' });
    assert.throws(() => parseGoDuration(".s"), { message: 'time: invalid duration ".s"' });
    assert.throws(() => parseGoDuration("1s-2s"), { message: 'time: unknown unit "s-" in duration "1s-2s"' });
    assert.throws(() => parseGoDuration("1s 2s"), { message: 'time: unknown unit "s " in duration "1s 2s"' });
  });

  it("formatGoDuration matches Go's Duration.String", () => {
    const cases: [number, string][] = [
      [0, "0s"], [90_000, "1m30s"], [2000, "2s"], [1.5, "1.5ms"],
      [3_723_004, "1h2m3.004s"], [3_600_000, "1h0m0s"], [0.0015, "1.5\u00b5s"], [-1500, "-1.5s"], [0.000001, "1ns"],
    ];
    for (const [ms, text] of cases) assert.equal(formatGoDuration(ms), text, String(ms));
  });

  it("validateResourceName", () => {
    assert.equal(validateResourceName("motor-1_a"), undefined);
    assert.match(validateResourceName("-x")!, /must start with a letter or number/);
    assert.match(validateResourceName("a+b")!, /must start with a letter or number/);
  });
});
