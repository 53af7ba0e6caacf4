// gRPC server reflection (v1 and v1alpha) on a running host, over h2c with connect-node clients of
// the generated ServerReflection services.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createFileRegistry, fromBinary, getExtension, hasExtension } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { safety_heartbeat_monitored } from "../../proto/gen/common/v1/common_pb.js";
import { AuthService } from "../../proto/gen/proto/rpc/v1/auth_pb.js";
import { ServerReflection as ServerReflectionV1, type ServerReflectionRequest as RequestV1 } from "../../proto/gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionV1alpha } from "../../proto/gen/grpc/reflection/v1alpha/reflection_pb.js";
import type { Host } from "../../host/host.js";
import { allFakesConfig, startTestHost, testKeyId, testKeySecret, withApiKey } from "../support/host.js";

type Question = RequestV1["messageRequest"];

/** What a reflection answer carries, the same for both versions. */
interface Answer {
  validHost: string;
  originalRequest?: { host: string; messageRequest: { case: string | undefined; value?: unknown } };
  messageResponse:
    | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
    | { case: "allExtensionNumbersResponse"; value: { baseTypeName: string; extensionNumber: number[] } }
    | { case: "listServicesResponse"; value: { service: { name: string }[] } }
    | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } }
    | { case: undefined; value?: undefined };
}

/** Asks the questions on one stream, in order, and collects the answers. */
type Ask = (questions: Question[], host?: string) => Promise<Answer[]>;

function asker(version: "v1" | "v1alpha", transport: Transport): Ask {
  return async (questions, host = "") => {
    const answers: Answer[] = [];
    if (version === "v1") {
      const client = createClient(ServerReflectionV1, transport);
      for await (const res of client.serverReflectionInfo(requests(questions, host))) answers.push(res as Answer);
    } else {
      const client = createClient(ServerReflectionV1alpha, transport);
      for await (const res of client.serverReflectionInfo(requests(questions, host))) answers.push(res as Answer);
    }
    return answers;
  };
}

async function* requests(questions: Question[], host: string) {
  for (const messageRequest of questions) yield { host, messageRequest } as never;
}

function files(answer: Answer): FileDescriptorProto[] {
  assert.equal(answer.messageResponse.case, "fileDescriptorResponse", JSON.stringify(answer.messageResponse));
  return answer.messageResponse.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b));
}

function error(answer: Answer): { errorCode: number; errorMessage: string } {
  assert.equal(answer.messageResponse.case, "errorResponse");
  return answer.messageResponse.value;
}

const symbol = (value: string): Question => ({ case: "fileContainingSymbol", value });

const componentServices = [
  "viam.component.board.v1.BoardService",
  "viam.component.encoder.v1.EncoderService",
  "viam.component.generic.v1.GenericService",
  "viam.component.motor.v1.MotorService",
  "viam.component.movementsensor.v1.MovementSensorService",
  "viam.component.powersensor.v1.PowerSensorService",
  "viam.component.sensor.v1.SensorService",
  "viam.component.servo.v1.ServoService",
];

describe("server reflection", () => {
  let host: Host;
  let transport: Transport;

  before(async () => {
    host = await startTestHost(allFakesConfig());
    transport = createGrpcTransport({ baseUrl: host.url });
  });
  after(async () => {
    await host?.close();
  });

  for (const version of ["v1", "v1alpha"] as const) {
    describe(version, () => {
      const ask = (questions: Question[], h?: string) => asker(version, transport)(questions, h);

      it("lists the served services, sorted, reflection included; echoes host and request", async () => {
        const [answer] = await ask([{ case: "listServices", value: "*" }], "machine.local:8080");
        assert.equal(answer.validHost, "machine.local:8080");
        assert.equal(answer.originalRequest?.messageRequest.case, "listServices");
        assert.equal(answer.originalRequest?.messageRequest.value, "*");
        assert.equal(answer.messageResponse.case, "listServicesResponse");
        const names = answer.messageResponse.value.service.map((s) => s.name);
        assert.deepEqual(names, [...names].sort());
        for (const name of ["viam.robot.v1.RobotService", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection", ...componentServices]) {
          assert.ok(names.includes(name), `${name} in ${names.join(", ")}`);
        }
        assert.ok(!names.includes("proto.rpc.v1.AuthService"), "no auth service without auth");
      });

      it("file_containing_symbol(MotorService): motor.proto and its dependencies, with the safety option on SetPower", async () => {
        const [answer] = await ask([symbol("viam.component.motor.v1.MotorService")]);
        const fds = files(answer);
        assert.equal(fds[0].name, "component/motor/v1/motor.proto");
        const names = fds.map((f) => f.name);
        for (const dep of ["common/v1/common.proto", "google/protobuf/struct.proto", "google/protobuf/descriptor.proto", "google/protobuf/timestamp.proto"]) {
          assert.ok(names.includes(dep), `${dep} in ${names.join(", ")}`);
        }
        assert.equal(new Set(names).size, names.length, "no file twice");
        // The set is complete: a registry can be built from it alone (files come first, imports after).
        const byName = new Map(fds.map((f) => [f.name, f]));
        const registry = createFileRegistry(fds[0], (name) => byName.get(name));
        assert.ok(registry.getService("viam.component.motor.v1.MotorService"));

        const service = fds[0].service.find((s) => s.name === "MotorService");
        assert.ok(service);
        const method = (name: string) => {
          const m = service.method.find((x) => x.name === name);
          assert.ok(m, name);
          return m;
        };
        for (const name of ["SetPower", "GoFor", "GoTo", "SetRPM"]) {
          const options = method(name).options;
          assert.ok(options && hasExtension(options, safety_heartbeat_monitored), `${name} has extension 84260`);
          assert.equal(getExtension(options, safety_heartbeat_monitored), true);
          // The raw field too, as a client without Viam's protos sees it.
          assert.ok(options.$unknown?.some((u) => u.no === 84260));
        }
        const getPosition = method("GetPosition").options;
        assert.ok(!getPosition || !hasExtension(getPosition, safety_heartbeat_monitored));
        assert.equal(method("SetPower").inputType, ".viam.component.motor.v1.SetPowerRequest");
      });

      it("finds methods, messages, enums, nested types and extensions by full name", async () => {
        const cases: [string, string][] = [
          ["viam.component.motor.v1.MotorService.SetPower", "component/motor/v1/motor.proto"],
          ["viam.component.motor.v1.SetPowerRequest", "component/motor/v1/motor.proto"],
          ["viam.common.v1.ResourceName", "common/v1/common.proto"],
          ["viam.common.v1.KinematicsFileFormat", "common/v1/common.proto"],
          ["viam.common.v1.safety_heartbeat_monitored", "common/v1/common.proto"],
          ["viam.robot.v1.RobotService", "robot/v1/robot.proto"],
          ["viam.robot.v1.PeerConnectionType", "robot/v1/robot.proto"],
          ["google.protobuf.Struct", "google/protobuf/struct.proto"],
          ["google.protobuf.MethodOptions", "google/protobuf/descriptor.proto"],
          ["grpc.reflection.v1.ServerReflection", "grpc/reflection/v1/reflection.proto"],
          ["grpc.reflection.v1alpha.ServerReflectionRequest", "grpc/reflection/v1alpha/reflection.proto"],
        ];
        // One stream per symbol, so each answer starts afresh.
        for (const [name, file] of cases) {
          const [answer] = await ask([symbol(name)]);
          assert.equal(files(answer)[0].name, file, name);
        }
      });

      it("answers NOT_FOUND for unknown symbols, files and extensions, and the stream goes on", async () => {
        const answers = await ask([
          symbol("viam.component.motor.v1.NoSuchService"),
          { case: "fileByFilename", value: "component/motor/v1/nope.proto" },
          { case: "fileContainingExtension", value: { containingType: "google.protobuf.MethodOptions", extensionNumber: 1 } as never },
          { case: "allExtensionNumbersOfType", value: "no.such.Message" },
          symbol("viam.component.motor.v1.MotorService"),
        ]);
        assert.equal(answers.length, 5);
        for (const a of answers.slice(0, 4)) {
          const e = error(a);
          assert.equal(e.errorCode, Code.NotFound);
          assert.equal(e.errorMessage, "proto: not found");
        }
        assert.equal(files(answers[4])[0].name, "component/motor/v1/motor.proto");
      });

      it("file_by_filename takes import paths", async () => {
        const [answer] = await ask([{ case: "fileByFilename", value: "common/v1/common.proto" }]);
        const names = files(answer).map((f) => f.name);
        assert.deepEqual(names.sort(), ["common/v1/common.proto", "google/protobuf/descriptor.proto", "google/protobuf/struct.proto", "google/protobuf/timestamp.proto"]);
      });

      it("extensions: file_containing_extension and all_extension_numbers_of_type", async () => {
        const answers = await ask([
          { case: "fileContainingExtension", value: { containingType: "google.protobuf.MethodOptions", extensionNumber: 84260 } as never },
          { case: "allExtensionNumbersOfType", value: "google.protobuf.MethodOptions" },
          { case: "allExtensionNumbersOfType", value: "viam.common.v1.ResourceName" },
        ]);
        assert.equal(files(answers[0])[0].name, "common/v1/common.proto");
        assert.deepEqual(answers[1].messageResponse, {
          case: "allExtensionNumbersResponse",
          value: { $typeName: `grpc.reflection.${version}.ExtensionNumberResponse`, baseTypeName: "google.protobuf.MethodOptions", extensionNumber: [84260] },
        });
        assert.equal(answers[2].messageResponse.case, "allExtensionNumbersResponse");
        assert.deepEqual(answers[2].messageResponse.value.extensionNumber, []);
      });

      it("does not send a dependency twice on one stream (as grpc-go)", async () => {
        const answers = await ask([symbol("viam.component.motor.v1.MotorService"), symbol("viam.component.sensor.v1.SensorService"), symbol("viam.component.motor.v1.MotorService")]);
        const sensor = files(answers[1]).map((f) => f.name);
        assert.deepEqual(sensor, ["component/sensor/v1/sensor.proto"], "common and struct were sent already");
        // The file asked for is always sent.
        assert.deepEqual(files(answers[2]).map((f) => f.name), ["component/motor/v1/motor.proto"]);
      });

      it("a request with no question ends the stream with INVALID_ARGUMENT", async () => {
        await assert.rejects(ask([{ case: undefined }]), (err: unknown) => {
          assert.ok(err instanceof ConnectError);
          assert.equal(err.code, Code.InvalidArgument);
          return true;
        });
      });
    });
  }
});

describe("server reflection with auth", () => {
  let host: Host;
  before(async () => {
    host = await startTestHost(withApiKey(allFakesConfig()));
  });
  after(async () => {
    await host?.close();
  });

  it("needs a token like every other call (as goutils), and then lists AuthService", async () => {
    const plain = createGrpcTransport({ baseUrl: host.url });
    await assert.rejects(asker("v1", plain)([{ case: "listServices", value: "" }]), (err: unknown) => err instanceof ConnectError && err.code === Code.Unauthenticated);
    const { accessToken } = await createClient(AuthService, plain).authenticate({
      entity: testKeyId,
      credentials: { type: "api-key", payload: testKeySecret },
    });
    const authed = createGrpcTransport({
      baseUrl: host.url,
      interceptors: [
        (next) => (req) => {
          req.header.set("authorization", `Bearer ${accessToken}`);
          return next(req);
        },
      ],
    });
    const [answer] = await asker("v1alpha", authed)([{ case: "listServices", value: "" }]);
    assert.equal(answer.messageResponse.case, "listServicesResponse");
    assert.ok(answer.messageResponse.value.service.some((s) => s.name === "proto.rpc.v1.AuthService"));
  });
});
