// What RobotService.GetVersion reports for the micro runtime.

export const PLATFORM = "sprocket-micro";
export const VERSION = "0.1.0";
/** The Viam API version the served protos come from; the same as the host's (host/robot/service.ts). */
export const API_VERSION = "v0.1.512";
