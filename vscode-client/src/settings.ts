/**
 * What the server receives for the `migrationLsp` section (`workspace/configuration`): only
 * its own options, and only those the user set. Client settings (`server.path`, `interpreter`,
 * `trace.server`) stay in the editor; empty defaults would override a project's own
 * configuration file less precisely than leaving the option out. Pure: unit-tested.
 */

/** The options the server reads, camelCase as in `settings.json`. */
export const SERVER_OPTIONS = [
  "select",
  "extendSelect",
  "ignore",
  "severity",
  "dialect",
  "exclude",
  "guide",
  "checkDowngrade",
  "maxFileSize",
  "postgresVersion",
  "defaultBranch",
] as const;

/** Client settings whose change needs a new server process. */
export const RESTART_SETTINGS = ["server.path", "interpreter"] as const;

export function serverSettings(raw: unknown): Record<string, unknown> | null {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    return null;
  }
  const settings = raw as Record<string, unknown>;
  const result: Record<string, unknown> = {};
  for (const key of SERVER_OPTIONS) {
    const value = settings[key];
    if (value === null || value === undefined || value === "") {
      continue;
    }
    if (Array.isArray(value) && value.length === 0 && key !== "select") {
      continue;
    }
    if (isEmptyObject(value)) {
      continue;
    }
    result[key] = value;
  }
  return result;
}

function isEmptyObject(value: unknown): boolean {
  return (
    value !== null &&
    typeof value === "object" &&
    !Array.isArray(value) &&
    Object.keys(value as object).length === 0
  );
}
