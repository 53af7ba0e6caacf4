// The answering side of one WebRTC peer connection (werift, pure TypeScript): the two pre-negotiated
// channels of spec §3.2, trickled candidates, binary messages on `data` with send backpressure, and
// one clean close when ICE or the data channel goes away (spec §3.11).
import { RTCPeerConnection, type RTCDataChannel } from "werift";
import type { Logger } from "pino";

/** A session description as it travels in signaling and on the `negotiation` channel. */
export interface SessionDescriptionJson {
  type: "offer" | "answer" | "pranswer" | "rollback";
  sdp: string;
}

/** An ICE candidate in `RTCIceCandidateInit` form. */
export interface IceCandidateJson {
  candidate: string;
  sdpMid?: string;
  sdpMLineIndex?: number;
  usernameFragment?: string;
}

export interface IceServerConfig {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/** `base64(JSON.stringify({type, sdp}))`, as signaling and the `negotiation` channel carry SDPs. */
export function encodeSdp(desc: SessionDescriptionJson): string {
  return Buffer.from(JSON.stringify({ type: desc.type, sdp: desc.sdp }), "utf8").toString("base64");
}

/** Inverse of `encodeSdp`; throws an `Error` naming what is wrong. */
export function decodeSdp(encoded: string): SessionDescriptionJson {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(encoded, "base64").toString("utf8"));
  } catch {
    throw new Error("sdp is not base64-encoded JSON");
  }
  const { type, sdp } = (parsed ?? {}) as { type?: unknown; sdp?: unknown };
  if (typeof sdp !== "string" || (type !== "offer" && type !== "answer" && type !== "pranswer" && type !== "rollback")) {
    throw new Error("sdp JSON must have a string 'sdp' and a 'type' of offer or answer");
  }
  return { type, sdp };
}

/** The epoch-1 DTLS record number libwebrtc drops (see `skipDroppedDtlsRecord`). */
const DROPPED_DTLS_RECORD = 6;

/** How long DTLS stays up after SCTP's ABORT was queued, so that it reaches the caller. */
const SCTP_ABORT_FLUSH_MS = 20;

/** The writer blocks while more than this many bytes wait in the data channel (as goutils). */
export const BUFFERED_AMOUNT_HIGH = 1024 * 1024;

export interface AnsweringPeerOptions {
  logger: Logger;
  /** ICE servers; none by default (LAN: host candidates only, as the internal signaler offers). */
  iceServers?: readonly IceServerConfig[];
  /** Send backpressure threshold in bytes; default `BUFFERED_AMOUNT_HIGH`. */
  maxBufferedBytes?: number;
}

type CandidateSink = (candidate: IceCandidateJson | null) => void;

/**
 * One answering peer connection. Create with `AnsweringPeer.answer(offer, opts)`, send
 * `peer.answer` to the caller, then call `trickle(sink)` once the answer is on its way.
 */
export class AnsweringPeer {
  readonly pc: RTCPeerConnection;
  readonly data: RTCDataChannel;
  readonly negotiation: RTCDataChannel;
  /** The local answer, complete with every candidate werift gathered during setLocalDescription. */
  answer: SessionDescriptionJson = { type: "answer", sdp: "" };

  private readonly logger: Logger;
  private readonly maxBuffered: number;
  // werift gathers synchronously inside setLocalDescription, before the answer can be sent; candidates
  // wait here until `trickle` is called.
  private pendingCandidates: (IceCandidateJson | null)[] = [];
  private candidateSink: CandidateSink | undefined;
  private gatheringDone = false;
  private readonly messageListeners: ((bytes: Uint8Array) => void)[] = [];
  private readonly openListeners: (() => void)[] = [];
  private readonly closeListeners: ((reason: string) => void)[] = [];
  private readonly drainWaiters = new Set<() => void>();
  private closedReason: string | undefined;
  private closing: Promise<void> | undefined;

  private constructor(opts: AnsweringPeerOptions) {
    this.logger = opts.logger;
    this.maxBuffered = opts.maxBufferedBytes ?? BUFFERED_AMOUNT_HIGH;
    this.pc = new RTCPeerConnection({
      iceServers: (opts.iceServers ?? []).map((s) => ({ ...s })),
      // As goutils' pion configuration: IPv4 candidates only.
      iceUseIpv6: false,
    });
    this.data = this.pc.createDataChannel("data", { id: 0, negotiated: true, ordered: true });
    this.negotiation = this.pc.createDataChannel("negotiation", { id: 1, negotiated: true, ordered: true });
    this.data.bufferedAmountLowThreshold = this.maxBuffered;

    this.pc.onIceCandidate.subscribe((c) => {
      if (c === undefined) this.gatheringDone = true;
      this.emitCandidate(c === undefined ? null : toCandidateJson(c));
    });
    this.pc.iceConnectionStateChange.subscribe((state) => {
      this.logger.debug({ state }, "ice connection state");
      if (state === "failed" || state === "disconnected" || state === "closed") void this.close(`ice ${state}`);
    });
    this.pc.connectionStateChange.subscribe((state) => {
      if (state === "failed" || state === "closed") void this.close(`connection ${state}`);
    });
    this.data.stateChanged.subscribe((state) => {
      if (state === "open") void this.skipDroppedDtlsRecord();
      if (state === "open") for (const l of this.openListeners.splice(0)) l();
      if (state === "closed" || state === "closing") void this.close("data channel closed");
    });
    this.data.bufferedAmountLow.subscribe(() => this.wakeWriters());
    this.data.onMessage.subscribe((msg) => {
      if (typeof msg === "string") {
        this.logger.debug("ignoring a text message on the data channel");
        return;
      }
      const bytes = new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength);
      for (const l of this.messageListeners) l(bytes);
    });
    this.negotiation.onMessage.subscribe((msg) => void this.onNegotiationMessage(msg));
  }

  /** Builds the peer connection, applies the caller's offer and sets the local answer. */
  static async answer(offer: SessionDescriptionJson, opts: AnsweringPeerOptions): Promise<AnsweringPeer> {
    if (offer.type !== "offer") throw new Error(`expected an offer, got "${offer.type}"`);
    const peer = new AnsweringPeer(opts);
    try {
      await peer.pc.setRemoteDescription({ type: "offer", sdp: offer.sdp });
      const answer = await peer.pc.createAnswer();
      await peer.pc.setLocalDescription(answer);
      const local = peer.pc.localDescription;
      peer.answer = { type: "answer", sdp: local?.sdp ?? answer.sdp };
    } catch (err) {
      await peer.close("answer failed");
      throw err;
    }
    return peer;
  }

  /**
   * Starts handing local candidates to `sink`: first the ones gathered so far, then live ones.
   * `null` means gathering is complete. Call once, after the answer was written.
   */
  trickle(sink: CandidateSink): void {
    if (this.candidateSink) throw new Error("trickle already started");
    this.candidateSink = sink;
    for (const c of this.pendingCandidates.splice(0)) sink(c);
  }

  /** True once local ICE gathering has finished. */
  get gatheringComplete(): boolean {
    return this.gatheringDone || this.pc.iceGatheringState === "complete";
  }

  /** Adds a remote (caller) candidate. An empty candidate string means end of candidates. */
  async addIceCandidate(candidate: IceCandidateJson): Promise<void> {
    if (this.closedReason !== undefined) return;
    // Browsers hide host addresses behind `<uuid>.local` names. Resolving one would send multicast
    // DNS onto the LAN and leave a 10 s timer behind in werift; like pion in "query only" mode we
    // skip them, and the caller's address is learned from its connectivity checks instead.
    if (/ \S+\.local /.test(candidate.candidate)) return;
    await this.pc.addIceCandidate(candidate.candidate === "" ? null : candidate);
  }

  get isOpen(): boolean {
    return this.data.readyState === "open" && this.closedReason === undefined;
  }

  get isClosed(): boolean {
    return this.closedReason !== undefined;
  }

  /** The addresses (`ip:port`, IPv6 in brackets) of the selected candidate pair; empty before connecting. */
  selectedAddresses(): { local?: string; remote?: string } {
    const pair = this.pc.iceTransports[0]?.getSelectedCandidatePair();
    if (!pair) return {};
    return { local: candidateAddress(pair.local.candidate), remote: candidateAddress(pair.remote.candidate) };
  }

  /** Calls `fn` when the data channel opens (at once if it is open). */
  onOpen(fn: () => void): void {
    if (this.isOpen) fn();
    else if (this.closedReason === undefined) this.openListeners.push(fn);
  }

  /** Each binary message on the data channel. */
  onMessage(fn: (bytes: Uint8Array) => void): void {
    this.messageListeners.push(fn);
  }

  /** Calls `fn` once when the connection ends (at once if it has). */
  onClose(fn: (reason: string) => void): void {
    if (this.closedReason !== undefined) fn(this.closedReason);
    else this.closeListeners.push(fn);
  }

  /**
   * Sends one binary message on the data channel. While more than the backpressure threshold is
   * buffered it returns a Promise that sends once the channel has drained below it; otherwise it sends
   * at once. Throws (or rejects) when the connection is closed.
   */
  send(bytes: Uint8Array): void | Promise<void> {
    if (this.closedReason === undefined && this.data.bufferedAmount > this.maxBuffered) {
      return (async () => {
        while (this.closedReason === undefined && this.data.bufferedAmount > this.maxBuffered) {
          await new Promise<void>((resolve) => this.drainWaiters.add(resolve));
        }
        this.sendNow(bytes);
      })();
    }
    this.sendNow(bytes);
  }

  private sendNow(bytes: Uint8Array): void {
    if (this.closedReason !== undefined) throw new Error(`peer connection closed: ${this.closedReason}`);
    if (this.data.readyState !== "open") throw new Error("data channel not open");
    this.data.send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  /** Closes the data channels and the peer connection; idempotent. */
  close(reason = "closed"): Promise<void> {
    // Guarded before anything else: closing the channels below re-enters through their state events.
    if (this.closing) return this.closing;
    let done!: () => void;
    this.closing = new Promise<void>((resolve) => (done = resolve));
    this.closedReason = reason;
    this.logger.debug({ reason }, "closing peer connection");
    this.openListeners.length = 0;
    this.wakeWriters();
    for (const l of this.closeListeners.splice(0)) {
      try {
        l(reason);
      } catch (err) {
        this.logger.warn({ err }, "peer close listener failed");
      }
    }
    try {
      if (this.data.readyState === "open") this.data.close();
      if (this.negotiation.readyState === "open") this.negotiation.close();
    } catch {
      // The transport may already be gone.
    }
    // werift's close() stops DTLS before SCTP, so the caller would only notice through ICE consent
    // (about 6 s later); stopping SCTP first sends an ABORT, and DTLS must stay up a moment to carry it.
    void (async () => {
      try {
        await this.pc.sctpTransport?.stop();
        await new Promise((resolve) => setTimeout(resolve, SCTP_ABORT_FLUSH_MS));
      } catch (err) {
        this.logger.debug({ err }, "sctp stop failed");
      }
      await this.pc.close();
    })()
      .catch((err: unknown) => this.logger.debug({ err }, "peer connection close failed"))
      .finally(done);
    return this.closing;
  }

  /**
   * werift as DTLS client against libwebrtc (@roamhq/wrtc, observed every time): libwebrtc drops
   * werift's epoch-1 DTLS record number 6, the 4th record after the channel opens. When that record
   * carries response DATA, SCTP recovers only by its 1 s retransmission timeout, so every caller's first
   * call took 1 s. Sending SCTP HEARTBEATs (which need no answer) until that record number is used
   * up moves the loss onto one of them. Best effort: werift internals, skipped if they are not there.
   */
  private async skipDroppedDtlsRecord(): Promise<void> {
    type Sctp = { timerHeartbeatExpired?: () => Promise<void>; heartbeatCancel?: () => void };
    const sctp = (this.pc.sctpTransport as unknown as { sctp?: Sctp } | undefined)?.sctp;
    const dtls = (this.pc.dtlsTransports[0] as unknown as { dtls?: { dtls?: { epoch: number; recordSequenceNumber: number } } } | undefined)
      ?.dtls?.dtls;
    if (typeof sctp?.timerHeartbeatExpired !== "function" || typeof sctp.heartbeatCancel !== "function" || !dtls) return;
    try {
      for (let i = 0; i < DROPPED_DTLS_RECORD && dtls.epoch === 1 && dtls.recordSequenceNumber < DROPPED_DTLS_RECORD; i++) {
        const before = dtls.recordSequenceNumber;
        // The expiry handler re-arms the heartbeat timer without clearing a pending one: clear it first,
        // or an orphaned 30 s timer outlives the connection.
        sctp.heartbeatCancel();
        await sctp.timerHeartbeatExpired();
        if (dtls.recordSequenceNumber === before) return; // data in flight: nothing was sent
      }
    } catch (err) {
      this.logger.debug({ err }, "sending SCTP heartbeats failed");
    }
  }

  private emitCandidate(c: IceCandidateJson | null): void {
    if (this.candidateSink) this.candidateSink(c);
    else this.pendingCandidates.push(c);
  }

  private wakeWriters(): void {
    const waiters = [...this.drainWaiters];
    this.drainWaiters.clear();
    for (const w of waiters) w();
  }

  // Renegotiation (spec §3.12): answer offers; this runtime never starts one (it has no tracks).
  private async onNegotiationMessage(msg: string | Buffer): Promise<void> {
    try {
      const desc = decodeSdp(typeof msg === "string" ? msg : msg.toString("utf8"));
      if (desc.type !== "offer" && desc.type !== "answer") return;
      await this.pc.setRemoteDescription({ type: desc.type, sdp: desc.sdp });
      if (desc.type !== "offer") return;
      const answer = await this.pc.createAnswer();
      await this.pc.setLocalDescription(answer);
      const local = this.pc.localDescription;
      this.negotiation.send(encodeSdp({ type: "answer", sdp: local?.sdp ?? answer.sdp }));
    } catch (err) {
      this.logger.warn({ err }, "renegotiation failed");
    }
  }
}

function toCandidateJson(c: { candidate: string; sdpMid?: string; sdpMLineIndex?: number; usernameFragment?: string }): IceCandidateJson {
  const out: IceCandidateJson = { candidate: c.candidate };
  if (c.sdpMid !== undefined) out.sdpMid = c.sdpMid;
  if (c.sdpMLineIndex !== undefined) out.sdpMLineIndex = c.sdpMLineIndex;
  if (c.usernameFragment !== undefined) out.usernameFragment = c.usernameFragment;
  return out;
}

/** `ip:port` of an SDP candidate line (`candidate:<foundation> <component> <proto> <prio> <ip> <port> typ …`). */
function candidateAddress(candidate: string): string | undefined {
  const parts = candidate.replace(/^candidate:/, "").split(/\s+/);
  const ip = parts[4];
  const port = parts[5];
  if (!ip || !port) return undefined;
  return `${ip.includes(":") ? `[${ip}]` : ip}:${port}`;
}
