// How to read a failed request: whether a retry can help, and a short message for logs and status.
import { isApiError } from "./client.ts";

// Status reasons that say the request itself is wrong, whatever HTTP status carried them.
const PERMANENT_REASONS = new Set(["Invalid", "BadRequest", "Forbidden", "RequestEntityTooLarge", "NotAcceptable", "UnsupportedMediaType"]);
// Messages of refusals the API server sends as 500s: etcd's size limit, strict decoding of a field
// the schema does not know (e.g. inside a pass-through toleration).
const PERMANENT_MESSAGES = [/request is too large/i, /unknown field/i, /strict decoding error/i, /json: cannot unmarshal/i];

type StatusBody = { reason?: unknown; message?: unknown; details?: { causes?: { reason?: unknown; message?: unknown }[] } };

/**
 * Errors a retry will not fix: the request itself is refused (validation, admission, RBAC, too
 * large, a field the schema does not know). Read from the API Status object (`reason`,
 * `details.causes`, message), not only the HTTP status: some of these arrive as 500s.
 */
export function isPermanent(e: unknown): boolean {
  if (!isApiError(e)) return false;
  if (e.status === 400 || e.status === 403 || e.status === 413 || e.status === 422) return true;
  const body = (typeof e.body === "object" && e.body !== null ? e.body : {}) as StatusBody;
  if (typeof body.reason === "string" && PERMANENT_REASONS.has(body.reason)) return true;
  const causes = Array.isArray(body.details?.causes) ? body.details.causes : [];
  const texts = [body.message, typeof e.body === "string" ? e.body : undefined, ...causes.map((c) => c?.message), ...causes.map((c) => c?.reason)];
  if (causes.some((c) => c?.reason === "FieldValueInvalid" || c?.reason === "FieldValueNotSupported" || c?.reason === "FieldValueRequired")) return true;
  return texts.some((t) => typeof t === "string" && PERMANENT_MESSAGES.some((re) => re.test(t)));
}

/**
 * `<status>: <the API server's message>` for an API error (the Status object's message, else the
 * raw body), the error's message otherwise; at most 900 characters.
 */
export function errorMessage(e: unknown): string {
  if (isApiError(e)) {
    const body = e.body as { message?: unknown } | string | undefined;
    const detail =
      typeof body === "object" && body !== null && typeof body.message === "string" && body.message
        ? body.message
        : typeof body === "string" && body !== ""
          ? body
          : e.message;
    return `${e.status ? `${e.status}: ` : ""}${detail}`.slice(0, 900);
  }
  const message = typeof e === "object" && e !== null ? (e as { message?: unknown }).message : undefined;
  return (typeof message === "string" ? message : String(e)).slice(0, 900);
}

/**
 * The namespace is being deleted: the API server refuses to create anything in it (403, cause
 * NamespaceTerminating, message "... because it is being terminated"). Nothing to fix or report.
 */
export function isNamespaceTerminating(e: unknown): boolean {
  if (!isApiError(e, 403)) return false;
  const body = e.body as { message?: unknown; details?: { causes?: { reason?: unknown }[] } } | undefined;
  if (typeof body !== "object" || body === null) return false;
  if (body.details?.causes?.some((c) => c.reason === "NamespaceTerminating")) return true;
  return typeof body.message === "string" && body.message.includes("because it is being terminated");
}
