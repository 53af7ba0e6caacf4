// The SDK only needs an object it can call; its option and return types stay opaque here.
export declare function createGrpcTransport(options: Record<string, unknown>): unknown;
export declare function createGrpcWebTransport(options: Record<string, unknown>): unknown;
