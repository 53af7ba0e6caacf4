// The config's `cloud` section as the external answerer reads it: rdk's fields and checks, the
// signaling address forms, and the names and credentials the answerer uses.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError, parseMachineConfig } from "../../host/config/load.js";
import { externalAnswererSettings } from "../../host/webrtc/answerer.js";

function parse(json: Record<string, unknown>) {
  return parseMachineConfig(JSON.stringify(json, null, 2), "machine.json");
}

function problems(json: Record<string, unknown>): string[] {
  try {
    parse(json);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
  assert.fail("expected a ConfigError");
}

const apiKey = { id: "key-id", key: "key-secret" };

describe("config: cloud", () => {
  test("rdk's fields are read; the section also stays in extra", () => {
    const cloud = { id: "part", secret: "s", api_key: apiKey, fqdn: "rover.viam.cloud", local_fqdn: "rover.local.viam.cloud", signaling_address: "app.viam.com:443", app_address: "https://app.viam.com:443" };
    const config = parse({ cloud });
    assert.deepEqual(config.cloud, {
      id: "part",
      secret: "s",
      apiKey: { id: "key-id", key: "key-secret" },
      fqdn: "rover.viam.cloud",
      localFqdn: "rover.local.viam.cloud",
      signalingAddress: "app.viam.com:443",
      signalingInsecure: false,
      signalingUrl: "https://app.viam.com:443",
    });
    assert.deepEqual(config.extra.cloud, cloud);
  });

  test("no cloud section, or null: none", () => {
    assert.equal(parse({}).cloud, undefined);
    assert.equal(parse({ cloud: null }).cloud, undefined);
  });

  test("signaling_address: host:port (TLS unless signaling_insecure), a bare host (443), or an http(s) URL", () => {
    const url = (signaling_address: string, signaling_insecure?: boolean) =>
      parse({ cloud: { id: "p", api_key: apiKey, fqdn: "r", signaling_address, signaling_insecure } }).cloud?.signalingUrl;
    assert.equal(url("127.0.0.1:8081", true), "http://127.0.0.1:8081");
    assert.equal(url("signal.example:8443"), "https://signal.example:8443");
    assert.equal(url("signal.example"), "https://signal.example:443");
    assert.equal(url("[::1]:9000", true), "http://[::1]:9000");
    assert.equal(url("http://127.0.0.1:8081/"), "http://127.0.0.1:8081");
    assert.equal(url("https://signal.example"), "https://signal.example");
    assert.equal(parse({ cloud: { id: "p", api_key: apiKey } }).cloud?.signalingUrl, undefined);
  });

  test("rdk's checks: id, a whole api_key or a secret; and a name to answer for", () => {
    assert.deepEqual(problems({ cloud: { api_key: apiKey } }), ["cloud.id: missing required field"]);
    assert.deepEqual(problems({ cloud: { id: "p", api_key: { id: "k" } } }), ["cloud.api_key.key: missing required field (api_key needs both id and key)"]);
    assert.deepEqual(problems({ cloud: { id: "p" } }), ["cloud.api_key: missing required field (the machine's credentials: api_key, or secret)"]);
    assert.deepEqual(problems({ cloud: { id: "p", secret: "s", signaling_address: "a:1" } }), [
      "cloud.fqdn: missing required field (the name callers ask the signaling server for; or set network.fqdn)",
    ]);
    assert.equal(parse({ network: { fqdn: "n" }, cloud: { id: "p", secret: "s", signaling_address: "a:1" } }).cloud?.signalingUrl, "https://a:1");
  });

  test("bad signaling addresses", () => {
    const bad = (signaling_address: string) => problems({ cloud: { id: "p", secret: "s", fqdn: "r", signaling_address } });
    assert.deepEqual(bad("ws://a:1"), ['cloud.signaling_address: unsupported scheme "ws" (use http or https, or host:port)']);
    assert.deepEqual(bad("http://u:p@a:1"), ['cloud.signaling_address: "http://u:p@a:1" must be a base URL (no credentials, query or fragment)']);
    assert.deepEqual(bad("a:b:c"), ["cloud.signaling_address: error validating signaling_address: address a:b:c:443: too many colons in address"]);
    assert.deepEqual(bad(":8080"), ["cloud.signaling_address: error validating signaling_address: address :8080: missing host in address"]);
  });
});

describe("externalAnswererSettings", () => {
  test("none without a signaling address", () => {
    assert.equal(externalAnswererSettings(parse({})), undefined);
    assert.equal(externalAnswererSettings(parse({ cloud: { id: "p", secret: "s" } })), undefined);
  });

  test("answers as cloud.fqdn and cloud.local_fqdn with the api key", () => {
    const config = parse({ cloud: { id: "p", secret: "s", api_key: apiKey, fqdn: "rover", local_fqdn: "rover.local", signaling_address: "127.0.0.1:9", signaling_insecure: true } });
    assert.deepEqual(externalAnswererSettings(config), {
      url: "http://127.0.0.1:9",
      hosts: ["rover", "rover.local"],
      credentials: { type: "api-key", entity: "key-id", payload: "key-secret" },
    });
  });

  test("falls back to network.fqdn, and to the part's robot secret", () => {
    const config = parse({ network: { fqdn: "rover.lan" }, cloud: { id: "part", secret: "s3cret", signaling_address: "https://signal.example" } });
    assert.deepEqual(externalAnswererSettings(config), {
      url: "https://signal.example",
      hosts: ["rover.lan"],
      credentials: { type: "robot-secret", entity: "part", payload: "s3cret" },
    });
  });
});
