import { describe, expect, it } from "vitest";
import { ApiError } from "./client.ts";
import { errorMessage, isNamespaceTerminating, isPermanent } from "./errors.ts";

describe("isPermanent", () => {
  it.each([
    [400, true],
    [403, true],
    [422, true],
    [404, false],
    [409, false],
    [429, false],
    [500, false],
    [503, false],
  ])("API error %i → %s", (status, permanent) => {
    expect(isPermanent(new ApiError(status, "x"))).toBe(permanent);
  });
  it.each([
    [
      "strict decoding inside a 500",
      500,
      { kind: "Status", reason: "InternalError", message: 'strict decoding error: unknown field "spec.template.spec.tolerations[0].bogus"' },
    ],
    ["etcd's size limit inside a 500", 500, { kind: "Status", reason: "InternalError", message: "etcdserver: request is too large" }],
    ["reason Invalid whatever the code", 500, { kind: "Status", reason: "Invalid", message: "x" }],
    ["reason BadRequest", 500, { kind: "Status", reason: "BadRequest", message: "x" }],
    [
      "a cause saying unknown field",
      500,
      { kind: "Status", reason: "InternalError", details: { causes: [{ reason: "FieldValueUnknown", message: 'unknown field "x"' }] } },
    ],
    ["a FieldValueInvalid cause", 500, { kind: "Status", details: { causes: [{ reason: "FieldValueInvalid", message: "bad" }] } }],
    ["413 Request Entity Too Large", 413, "request entity too large"],
    ["a raw-text 500 saying request is too large", 500, "etcdserver: request is too large"],
  ])("is true for %s", (_name, status, body) => {
    expect(isPermanent(new ApiError(status, "x", undefined, body))).toBe(true);
  });
  it.each([
    ["a plain 500", 500, { kind: "Status", reason: "InternalError", message: "etcd leader changed" }],
    ["a timeout", 504, { kind: "Status", reason: "Timeout", message: "the server was unable to return a response in time" }],
    ["a conflict", 409, { kind: "Status", reason: "Conflict", message: "the object has been modified" }],
    ["too many requests", 429, { kind: "Status", reason: "TooManyRequests", message: "slow down" }],
  ])("is false for %s", (_name, status, body) => {
    expect(isPermanent(new ApiError(status, "x", undefined, body))).toBe(false);
  });
  it("is false for errors that are not API answers (timeouts, resets), even if they carry a status", () => {
    expect(isPermanent(new Error("socket hang up"))).toBe(false);
    expect(isPermanent(Object.assign(new Error("odd"), { status: 422 }))).toBe(false);
  });
});

describe("errorMessage", () => {
  it("prefers the API server's message, prefixed with the status", () => {
    const e = new ApiError(422, "PATCH /x: 422 Invalid: long", "Invalid", { kind: "Status", message: "spec.replicas: Invalid value" });
    expect(errorMessage(e)).toBe("422: spec.replicas: Invalid value");
  });
  it("falls back to a raw text body, then to the error's message", () => {
    expect(errorMessage(new ApiError(503, "GET /x: 503: busy", undefined, "etcd is busy"))).toBe("503: etcd is busy");
    expect(errorMessage(new ApiError(500, "GET /x: 500", undefined, { kind: "Status" }))).toBe("500: GET /x: 500");
    expect(errorMessage(new Error("connect ECONNREFUSED"))).toBe("connect ECONNREFUSED");
    expect(errorMessage("plain")).toBe("plain");
  });
  it("is at most 900 characters", () => {
    expect(errorMessage(new ApiError(422, "x", "Invalid", { message: "y".repeat(5000) }))).toHaveLength(900);
  });
});

describe("isNamespaceTerminating", () => {
  const forbidden = (body: unknown) => new ApiError(403, "x", "Forbidden", body);
  it("recognises the API server's refusal to create in a namespace being deleted, by cause or by message", () => {
    const message = 'services "m" is forbidden: unable to create new content in namespace ml because it is being terminated';
    expect(isNamespaceTerminating(forbidden({ kind: "Status", reason: "Forbidden", message, details: { causes: [{ reason: "NamespaceTerminating" }] } }))).toBe(
      true,
    );
    expect(isNamespaceTerminating(forbidden({ kind: "Status", reason: "Forbidden", message }))).toBe(true);
  });
  it("is false for other refusals", () => {
    expect(isNamespaceTerminating(forbidden({ kind: "Status", message: 'services "m" is forbidden: exceeded quota: q' }))).toBe(false);
    expect(isNamespaceTerminating(new ApiError(500, "x", undefined, { message: "because it is being terminated" }))).toBe(false);
    expect(isNamespaceTerminating(new Error("because it is being terminated"))).toBe(false);
  });
});
