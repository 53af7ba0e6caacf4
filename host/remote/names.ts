// Which request field names the resource, read from the request's descriptor instead of a table per
// API: field number 1, a string, called `name` or `…_name` (every resource API's requests have
// `name = 1`; board ReadAnalogReader and GetDigitalInterruptValue have `board_name = 1`). Requests
// without one (RobotService's, AuthService's) are not resource calls and are never forwarded.
import { ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";

const cache = new WeakMap<DescMessage, DescField | null>();

export function resourceNameField(input: DescMessage): DescField | undefined {
  let field = cache.get(input);
  if (field === undefined) {
    const f = input.fields.find((x) => x.number === 1);
    field =
      f !== undefined && f.fieldKind === "scalar" && f.scalar === ScalarType.STRING && (f.name === "name" || f.name.endsWith("_name"))
        ? f
        : null;
    cache.set(input, field);
  }
  return field ?? undefined;
}
