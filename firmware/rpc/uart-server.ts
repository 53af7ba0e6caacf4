// The RPC server's UART side: one COBS-framed Connection on a UART (config `rpc_uart`). A UART
// link has no end: it stays one connection for the life of the firmware, its authentication
// included (a new host on the same wire authenticates again anyway). Frames damaged on the wire are
// dropped and counted (Connection.cobs) and the stream picks up at the next frame.
import { errorText, log } from "../log.js";
import type { Safety } from "../runtime/safety.js";
import { Connection } from "./connection.js";
import type { Dispatcher } from "./dispatcher.js";
import { UartLink, type UartOptions } from "./links.js";

export class RpcUartServer {
  readonly connection: Connection;

  constructor(options: UartOptions & { dispatcher: Dispatcher; safety: Safety }) {
    this.connection = new Connection({ framing: "cobs", dispatcher: options.dispatcher, safety: options.safety });
    try {
      const connection = this.connection;
      const link = new UartLink(options, { onData: (chunk) => connection.receive(chunk), onClosed: () => connection.linkClosed() });
      connection.attach(link);
      log("info", "rpc: serving UART " + options.port + " at " + options.baud + " baud");
    } catch (error) {
      log("error", "rpc: cannot open UART " + options.port + ": " + errorText(error));
    }
  }

  close(): void {
    this.connection.close("server closing");
  }
}
