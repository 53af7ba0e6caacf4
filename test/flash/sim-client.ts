// A minimal protocol client for poking the simulator directly (not a flasher): send one request,
// collect every frame and every raw byte that comes back.
import { Esp32Sim, type Esp32SimOptions } from "../../tools/sim/esp32/esp32-sim.js";
import { SYNC_PAYLOAD, checksum, encodeRequest, parseResponse, u32le, type Response } from "../../tools/sim/esp32/protocol.js";
import { SlipDecoder, slipEncode } from "../../tools/sim/esp32/slip.js";

export const tick = (ms = 10) => new Promise<void>((r) => setTimeout(r, ms));

export class SimClient {
  readonly decoder = new SlipDecoder();
  frames: Uint8Array[] = [];
  raw: number[] = [];

  constructor(readonly sim: Esp32Sim) {
    sim.onHostData((bytes) => {
      this.raw.push(...bytes);
      this.frames.push(...this.decoder.push(bytes));
    });
  }

  /** A simulator started in download mode, with a client attached. */
  static async rom(options: Esp32SimOptions = {}): Promise<SimClient> {
    const sim = new Esp32Sim({ powerOn: "download", ...options });
    const client = new SimClient(sim);
    await tick(15);
    client.clear();
    return client;
  }

  clear(): void {
    this.frames = [];
    this.raw = [];
  }

  sendRaw(bytes: Uint8Array): void {
    this.sim.hostWrite(bytes);
  }

  /** Sends a request and returns the responses (and other frames) that arrived within `waitMs`. */
  async request(command: number, payload: Uint8Array = new Uint8Array(0), chk = 0, waitMs = 10): Promise<Response[]> {
    this.clear();
    this.sim.hostWrite(slipEncode(encodeRequest(command, payload, chk)));
    await tick(waitMs);
    return this.frames.map(parseResponse).filter((r): r is Response => r !== undefined);
  }

  sync(): Promise<Response[]> {
    return this.request(0x08, SYNC_PAYLOAD);
  }

  /** A *_DATA payload: sub-header and data, with its checksum. */
  static dataPacket(data: Uint8Array, seq: number): { payload: Uint8Array; chk: number } {
    const payload = new Uint8Array(16 + data.length);
    payload.set(u32le(data.length, seq, 0, 0));
    payload.set(data, 16);
    return { payload, chk: checksum(data) };
  }

  /** Uploads `code` to `address` with MEM_* and jumps to `entry`; returns the frames after MEM_END. */
  async uploadAndRun(code: Uint8Array, address: number, entry: number): Promise<Uint8Array[]> {
    await this.request(0x05, u32le(code.length, 1, code.length, address));
    const { payload, chk } = SimClient.dataPacket(code, 0);
    await this.request(0x07, payload, chk);
    await this.request(0x06, u32le(0, entry));
    return this.frames;
  }

  close(): void {
    this.sim.close();
  }
}
