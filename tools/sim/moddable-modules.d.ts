// The Moddable module declarations the root (Node) build needs to compile firmware/ to JavaScript.
// At run time tools/sim/node-hooks.ts maps the same specifiers to the shims in tools/sim/shims/.
//
// Only ambient-module files are referenced, never xs.d.ts or mcpack.d.ts: those change globals
// (ArrayBufferLike gains HostBuffer; console and setTimeout are redeclared) for every host file.
// Moddable modules whose names Node also uses ("http", "net", "dns", "url", "console", …) cannot be
// declared here without clashing with @types/node; firmware wanting them needs another route.

/// <reference path="../../node_modules/@moddable/typings/embedded_io/_common.d.ts" />
/// <reference path="../../node_modules/@moddable/typings/embedded_io/digital.d.ts" />
/// <reference path="../../node_modules/@moddable/typings/embedded_io/digitalbank.d.ts" />
/// <reference path="../../node_modules/@moddable/typings/embedded_io/analog.d.ts" />
/// <reference path="../../node_modules/@moddable/typings/embedded_io/pwm.d.ts" />
/// <reference path="../../node_modules/@moddable/typings/embedded_io/i2c.d.ts" />
/// <reference path="../../node_modules/@moddable/typings/embedded_io/smbus.d.ts" />
/// <reference path="../../node_modules/@moddable/typings/embedded_io/spi.d.ts" />
/// <reference path="../../node_modules/@moddable/typings/embedded_io/serial.d.ts" />
/// <reference path="../../node_modules/@moddable/typings/embedded_io/pulsecount.d.ts" />
/// <reference path="../../node_modules/@moddable/typings/embedded_io/socket/tcp.d.ts" />
/// <reference path="../../node_modules/@moddable/typings/embedded_io/socket/udp.d.ts" />
/// <reference path="../../node_modules/@moddable/typings/embedded_io/socket/listener.d.ts" />
/// <reference path="../../node_modules/@moddable/typings/embedded_provider/builtin.d.ts" />
/// <reference path="../../node_modules/@moddable/typings/timer.d.ts" />
/// <reference path="../../node_modules/@moddable/typings/preference.d.ts" />
/// <reference path="../../node_modules/@moddable/typings/wifi.d.ts" />
/// <reference path="../../node_modules/@moddable/typings/mdns.d.ts" />
/// <reference path="../../node_modules/@moddable/typings/instrumentation.d.ts" />

// embedded:io/_common names this XS host type; xs.d.ts declares it as a class, which merges with
// this interface should both ever be in one program.
interface HostBuffer {
  readonly byteLength: number;
}
