import { AdminError, AdminErrorCodes, NotFoundError } from "@stratreg/client";
import { describe, expect, it } from "vitest";
import { CliError, formatError } from "./errors.js";

describe("formatError", () => {
  it("keeps the stable code of registry and operator-action errors", () => {
    expect(formatError(new NotFoundError("strategy x not found", { field: "body.id" }))).toBe(
      "error NOT_FOUND: strategy x not found (field body.id)",
    );
    expect(formatError(new AdminError(AdminErrorCodes.NoSuchShard, "no shard s-9 in cluster c"))).toBe(
      "error NO_SUCH_SHARD: no shard s-9 in cluster c",
    );
    expect(formatError(new CliError("cannot read x"))).toBe("error: cannot read x");
    expect(formatError("odd")).toBe("error: odd");
  });
});
