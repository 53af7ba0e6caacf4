// The provisioning data a board reads at boot, as Moddable `Preference` entries (ESP-IDF NVS on an
// ESP32). One definition for both sides: the firmware's config loader reads these keys, and the NVS
// image tools (`tools/image/provisioning.ts`, `sprocket nvs create`, the flasher page) write them.
//
// Pure data, no imports: portable to XS.
//
// Limits (ESP-IDF NVS, Moddable's `Preference`): domain and key names are at most 15 characters;
// a string is stored with its terminating NUL in one NVS page, so it holds at most 3999 bytes of
// text (4000 with the NUL). Larger values are ArrayBuffers, stored as multi-page blobs.
//
// `type` is the JavaScript type the firmware passes to `Preference.set` and gets back from
// `Preference.get`; `preferenceNvsType` is the NVS type Moddable's ESP32 `Preference.set` writes for
// it (`modules/files/preference/esp32/modPreference.c`): boolean → u8 (0x01), integer → i32 (0x14),
// string → str (0x21), ArrayBuffer → blob (0x42 data chunks + 0x48 index). Provisioning images must
// use exactly these types: `Preference.get` tries u8, i32, str, blob in that order and returns the
// first it finds.

/** The Preference domain (NVS namespace) holding every provisioning key. */
export const PROVISIONING_DOMAIN = "sprocket";

/** NVS type written by Moddable's `Preference.set` for each JavaScript value type. */
export const preferenceNvsType = {
  boolean: "u8",
  integer: "i32",
  string: "str",
  arraybuffer: "blob",
} as const;

export type PreferenceValueType = keyof typeof preferenceNvsType;

export interface ProvisioningKey {
  /** Preference domain = NVS namespace (≤ 15 characters). */
  readonly domain: string;
  /** Preference key = NVS key (≤ 15 characters). */
  readonly key: string;
  /** JavaScript type of the value given to / returned by `Preference`. */
  readonly type: PreferenceValueType;
  /** Masked by tools that print values (`sprocket nvs dump` without `--show-secrets`). */
  readonly secret: boolean;
  /** Upper bound on the value's byte length (UTF-8 for strings, without the NUL), if tighter than NVS's. */
  readonly maxBytes?: number;
  readonly description: string;
}

/**
 * Every key the firmware reads. Strings are UTF-8; `config` is the part's machine config as the
 * UTF-8 bytes of a JSON document in an ArrayBuffer (a blob), because a config easily outgrows the
 * 3999-byte string limit; read it with `JSON.parse(String.fromArrayBuffer(Preference.get(…)))`.
 */
export const provisioningKeys = {
  wifiSsid: {
    domain: PROVISIONING_DOMAIN,
    key: "wifi_ssid",
    type: "string",
    secret: false,
    maxBytes: 32,
    description: "Wi-Fi network name (SSID) to join",
  },
  wifiPassword: {
    domain: PROVISIONING_DOMAIN,
    key: "wifi_pass",
    type: "string",
    secret: true,
    maxBytes: 64,
    description: "Wi-Fi passphrase (empty or absent for an open network)",
  },
  host: {
    domain: PROVISIONING_DOMAIN,
    key: "host",
    type: "string",
    secret: false,
    description: "address of the host to dial in to, as a URL (e.g. ws://192.168.1.20:8080)",
  },
  partId: {
    domain: PROVISIONING_DOMAIN,
    key: "part_id",
    type: "string",
    secret: false,
    description: "id of the API key the part authenticates with (the part id)",
  },
  partKey: {
    domain: PROVISIONING_DOMAIN,
    key: "part_key",
    type: "string",
    secret: true,
    description: "secret of that API key (the part key)",
  },
  config: {
    domain: PROVISIONING_DOMAIN,
    key: "config",
    type: "arraybuffer",
    secret: false,
    description: "machine config of the part: UTF-8 JSON bytes",
  },
} as const satisfies Record<string, ProvisioningKey>;

export type ProvisioningKeyName = keyof typeof provisioningKeys;
