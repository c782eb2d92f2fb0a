/** SQLSTATE classes that fail the same way on every retry: 22 (data exception) and 23 (integrity constraint violation). */
const NEVER_SUCCEEDS = /^2[23][0-9A-Z]{3}$/;

/** The SQLSTATE of a database error that no retry can fix, else null (connection loss, serialization failures and the like may succeed later). */
export function permanentSqlState(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && NEVER_SUCCEEDS.test(code) ? code : null;
}
