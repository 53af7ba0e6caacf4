// gRPC server reflection, v1 and v1alpha (as grpc-go's reflection package answers): the services
// the router serves, and the descriptors of the files that define them with their transitive
// imports, built from the generated code's embedded descriptors. File names are the import paths
// (`common/v1/common.proto`); the well-known types' files are included like any other import.
import { toBinary, type DescEnum, type DescExtension, type DescFile, type DescMessage, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { ServerReflection as ServerReflectionV1 } from "../../proto/gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionV1alpha } from "../../proto/gen/grpc/reflection/v1alpha/reflection_pb.js";
import type { ServiceRegistration } from "./server.js";

export { ServerReflectionV1, ServerReflectionV1alpha };

/** grpc-go's answer for anything it cannot find (protoregistry.NotFound). */
const NOT_FOUND_MESSAGE = "proto: not found";

/** Every file reachable from the served services, indexed by name, symbol and extension. */
export class DescriptorIndex {
  readonly services: readonly string[];
  readonly #files = new Map<string, DescFile>();
  readonly #symbols = new Map<string, DescFile>();
  /** Extended message's full name → extension number → the file declaring the extension. */
  readonly #extensions = new Map<string, Map<number, DescFile>>();
  readonly #encoded = new Map<DescFile, Uint8Array>();

  constructor(served: Iterable<DescService>) {
    const names = new Set<string>();
    for (const service of served) {
      names.add(service.typeName);
      this.#addFile(service.file);
    }
    this.services = [...names].sort();
  }

  /** The file with this import path. */
  file(name: string): DescFile | undefined {
    return this.#files.get(name);
  }

  /** The file declaring a fully-qualified service, method, message, field, enum, enum value or extension. */
  fileContainingSymbol(symbol: string): DescFile | undefined {
    return this.#symbols.get(symbol.startsWith(".") ? symbol.slice(1) : symbol);
  }

  fileContainingExtension(extendee: string, number: number): DescFile | undefined {
    return this.#extensions.get(extendee)?.get(number);
  }

  /** Sorted extension numbers of a message; undefined when the message is unknown and has none. */
  extensionNumbers(extendee: string): number[] | undefined {
    const numbers = [...(this.#extensions.get(extendee)?.keys() ?? [])].sort((a, b) => a - b);
    if (numbers.length === 0 && !this.#symbols.has(extendee)) return undefined;
    return numbers;
  }

  /** The serialized FileDescriptorProto of `file`. */
  encode(file: DescFile): Uint8Array {
    let bytes = this.#encoded.get(file);
    if (!bytes) {
      bytes = toBinary(FileDescriptorProtoSchema, file.proto);
      this.#encoded.set(file, bytes);
    }
    return bytes;
  }

  /**
   * `file` and its transitive imports, breadth first, as grpc-go sends them: the file itself always,
   * an import only when `sent` (the files already sent on this stream) does not have it yet.
   */
  withDependencies(file: DescFile, sent: Set<string>): Uint8Array[] {
    const out: Uint8Array[] = [];
    const queue = [file];
    for (let f = queue.shift(); f; f = queue.shift()) {
      if (out.length === 0 || !sent.has(f.proto.name)) {
        sent.add(f.proto.name);
        out.push(this.encode(f));
      }
      queue.push(...f.dependencies);
    }
    return out;
  }

  #addFile(file: DescFile): void {
    if (this.#files.has(file.proto.name)) return;
    this.#files.set(file.proto.name, file);
    for (const dep of file.dependencies) this.#addFile(dep);
    const prefix = file.proto.package ? `${file.proto.package}.` : "";
    for (const m of file.messages) this.#addMessage(file, m);
    for (const e of file.enums) this.#addEnum(file, e, prefix);
    for (const x of file.extensions) this.#addExtension(file, x);
    for (const s of file.services) {
      this.#symbol(s.typeName, file);
      for (const m of s.methods) this.#symbol(`${s.typeName}.${m.name}`, file);
    }
  }

  #addMessage(file: DescFile, m: DescMessage): void {
    this.#symbol(m.typeName, file);
    for (const f of m.fields) this.#symbol(`${m.typeName}.${f.name}`, file);
    for (const o of m.oneofs) this.#symbol(`${m.typeName}.${o.name}`, file);
    for (const n of m.nestedMessages) this.#addMessage(file, n);
    for (const e of m.nestedEnums) this.#addEnum(file, e, `${m.typeName}.`);
    for (const x of m.nestedExtensions) this.#addExtension(file, x);
  }

  /** Enum values are scoped beside their enum, as in C++ (and Go's registry). */
  #addEnum(file: DescFile, e: DescEnum, scope: string): void {
    this.#symbol(e.typeName, file);
    for (const v of e.values) this.#symbol(`${scope}${v.name}`, file);
  }

  #addExtension(file: DescFile, x: DescExtension): void {
    this.#symbol(x.typeName, file);
    let byNumber = this.#extensions.get(x.extendee.typeName);
    if (!byNumber) this.#extensions.set(x.extendee.typeName, (byNumber = new Map()));
    byNumber.set(x.number, file);
  }

  #symbol(name: string, file: DescFile): void {
    if (!this.#symbols.has(name)) this.#symbols.set(name, file);
  }
}

/** A reflection question, the same in v1 and v1alpha. */
type Question =
  | { case: "fileByFilename" | "fileContainingSymbol" | "allExtensionNumbersOfType" | "listServices"; value: string }
  | { case: "fileContainingExtension"; value: { containingType: string; extensionNumber: number } }
  | { case: undefined; value?: undefined };

/** The answer's oneof, as an init shape both versions accept. */
type Answer =
  | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
  | { case: "allExtensionNumbersResponse"; value: { baseTypeName: string; extensionNumber: number[] } }
  | { case: "listServicesResponse"; value: { service: { name: string }[] } }
  | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };

const notFound: Answer = { case: "errorResponse", value: { errorCode: Code.NotFound, errorMessage: NOT_FOUND_MESSAGE } };

function answer(index: DescriptorIndex, question: Question, sent: Set<string>): Answer {
  const files = (file: DescFile | undefined): Answer =>
    file ? { case: "fileDescriptorResponse", value: { fileDescriptorProto: index.withDependencies(file, sent) } } : notFound;
  switch (question.case) {
    case "fileByFilename":
      return files(index.file(question.value));
    case "fileContainingSymbol":
      return files(index.fileContainingSymbol(question.value));
    case "fileContainingExtension":
      return files(index.fileContainingExtension(question.value.containingType, question.value.extensionNumber));
    case "allExtensionNumbersOfType": {
      const numbers = index.extensionNumbers(question.value);
      return numbers ? { case: "allExtensionNumbersResponse", value: { baseTypeName: question.value, extensionNumber: numbers } } : notFound;
    }
    case "listServices":
      return { case: "listServicesResponse", value: { service: index.services.map((name) => ({ name })) } };
    default:
      // grpc-go ends the stream here rather than answering.
      throw new ConnectError("invalid MessageRequest: none set", Code.InvalidArgument);
  }
}

/** Rebuilds the index only when the set of served services changes. */
function indexSource(served: () => Iterable<DescService>): () => DescriptorIndex {
  let cached: { key: string; index: DescriptorIndex } | undefined;
  return () => {
    const services = [...served()];
    const key = services.map((s) => s.typeName).sort().join(",");
    if (cached?.key !== key) cached = { key, index: new DescriptorIndex(services) };
    return cached.index;
  };
}

/**
 * Both reflection services, answering about what `served` returns when a stream starts (give the
 * same list the router is built from; it should include these two services, as grpc-go's does).
 */
export function reflectionServices(served: () => Iterable<DescService>): ServiceRegistration[] {
  const currentIndex = indexSource(served);
  const v1: ServiceImpl<typeof ServerReflectionV1> = {
    async *serverReflectionInfo(requests) {
      const index = currentIndex();
      const sent = new Set<string>();
      for await (const req of requests) {
        yield { validHost: req.host, originalRequest: req, messageResponse: answer(index, req.messageRequest, sent) };
      }
    },
  };
  const v1alpha: ServiceImpl<typeof ServerReflectionV1alpha> = {
    async *serverReflectionInfo(requests) {
      const index = currentIndex();
      const sent = new Set<string>();
      for await (const req of requests) {
        yield { validHost: req.host, originalRequest: req, messageResponse: answer(index, req.messageRequest, sent) };
      }
    },
  };
  return [
    { service: ServerReflectionV1, impl: v1 },
    { service: ServerReflectionV1alpha, impl: v1alpha },
  ];
}
