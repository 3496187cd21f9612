/**
 * Which command starts the language server: a pure function of what the extension found
 * (settings, the Python extension's interpreter, PATH, workspace trust), so every case is
 * unit-tested without VS Code.
 *
 * Order: `migrationLsp.server.path`; else an interpreter (`migrationLsp.interpreter`, else
 * the Python extension's) that has the `migration_lsp` package, run as
 * `python -P -m migration_lsp serve`; else `migration-lsp` on PATH. In Restricted Mode a program
 * named by workspace settings, or stored inside a workspace folder, is never run.
 */
import * as path from "node:path";

/** Where a candidate came from: trust decisions depend on it. */
export type Origin = "user" | "workspace" | "python-extension" | "path";

export interface Setting {
  value: string;
  /** `workspace`: from `.vscode/settings.json` or a `.code-workspace` file. */
  origin: "user" | "workspace";
}

export interface LaunchFacts {
  /** `migrationLsp.server.path` values, most specific scope first (folder, workspace, user). */
  serverPath: Setting[];
  /** `migrationLsp.interpreter` values, most specific scope first. */
  interpreter: Setting[];
  /** The interpreter selected in the Python extension, when it is installed. */
  pythonExtension?: string;
  /** `migration-lsp` as found on PATH (absolute), if any. */
  onPath?: string;
  trusted: boolean;
  workspaceFolders: string[];
  /** Whether a file exists (checked by the caller beforehand). */
  isFile: (file: string) => boolean;
  /** Whether `python -c "import migration_lsp"` succeeds (probed by the caller). */
  hasServer: (python: string) => boolean;
  platform?: NodeJS.Platform;
}

export interface Skipped {
  value: string;
  origin: Origin;
  reason: string;
}

export type LaunchPlan =
  | {
      kind: "run";
      command: string;
      args: string[];
      /** The interpreter, when the server runs as a module (also used for the CLI). */
      python?: string;
      origin: Origin;
      skipped: Skipped[];
    }
  | {
      kind: "missing";
      /** The interpreter to install the server into, if one is usable. */
      installInto?: string;
      installOrigin?: Origin;
      skipped: Skipped[];
    };

export const SERVER_MODULE = "migration_lsp";
export const SERVER_COMMAND = "migration-lsp";

/**
 * `python -P -m <module> args…`. The server runs with the workspace folder as its current
 * directory, and plain `-m` puts that directory first on `sys.path`: a repository's own
 * `migration_lsp/` (or `pip/`) folder would be imported, and run, in place of the installed
 * package. `-P` (Python 3.11+, which the server requires anyway) leaves it off.
 */
export function moduleArgs(module: string, ...args: string[]): string[] {
  return ["-P", "-m", module, ...args];
}

/** `python -P -c "import migration_lsp"`: whether the installed package is importable. */
export const PROBE_ARGS = ["-P", "-c", `import ${SERVER_MODULE}`];

/** Whether `file` is one of `folders` or lies below one (case-insensitive on Windows). */
export function isInside(file: string, folders: string[], platform: NodeJS.Platform): boolean {
  const lib = platform === "win32" ? path.win32 : path.posix;
  const norm = (p: string) => {
    const resolved = lib.resolve(p);
    return platform === "win32" ? resolved.toLowerCase() : resolved;
  };
  const target = norm(file);
  return folders.some((folder) => {
    const relative = lib.relative(norm(folder), target);
    return relative === "" || (!relative.startsWith("..") && !lib.isAbsolute(relative));
  });
}

/** Why `value` must not run in this workspace, or undefined when it may. */
export function untrustedReason(
  value: string,
  origin: Origin,
  facts: Pick<LaunchFacts, "trusted" | "workspaceFolders" | "platform">,
): string | undefined {
  if (facts.trusted) {
    return undefined;
  }
  if (origin === "workspace") {
    return "set in workspace settings, which Restricted Mode ignores";
  }
  if (isInside(value, facts.workspaceFolders, facts.platform ?? process.platform)) {
    return "inside the workspace, which Restricted Mode does not run";
  }
  return undefined;
}

export function chooseLaunch(facts: LaunchFacts): LaunchPlan {
  const skipped: Skipped[] = [];
  const allowed = (value: string, origin: Origin): boolean => {
    const reason = untrustedReason(value, origin, facts);
    if (reason !== undefined) {
      skipped.push({ value, origin, reason });
    }
    return reason === undefined;
  };

  // the most specific setting that may run wins; a user value stands in for a workspace
  // value that Restricted Mode refuses
  const serverPath = facts.serverPath.find((s) => s.value && allowed(s.value, s.origin));
  if (serverPath !== undefined) {
    if (facts.isFile(serverPath.value)) {
      return {
        kind: "run",
        command: serverPath.value,
        args: ["serve"],
        origin: serverPath.origin,
        skipped,
      };
    }
    skipped.push({
      value: serverPath.value,
      origin: serverPath.origin,
      reason: "migrationLsp.server.path: no such file",
    });
  }

  const pythons: { value: string; origin: Origin }[] = [];
  const interpreter = facts.interpreter.find((s) => s.value && allowed(s.value, s.origin));
  if (interpreter !== undefined) {
    pythons.push(interpreter);
  }
  if (facts.pythonExtension) {
    pythons.push({ value: facts.pythonExtension, origin: "python-extension" });
  }
  let installInto: { value: string; origin: Origin } | undefined;
  for (const python of pythons) {
    if (python.origin === "python-extension" && !allowed(python.value, python.origin)) {
      continue;
    }
    if (facts.hasServer(python.value)) {
      return {
        kind: "run",
        command: python.value,
        args: moduleArgs(SERVER_MODULE, "serve"),
        python: python.value,
        origin: python.origin,
        skipped,
      };
    }
    skipped.push({ ...python, reason: `the ${SERVER_MODULE} package is not installed there` });
    installInto ??= python;
  }

  if (facts.onPath && allowed(facts.onPath, "path")) {
    return { kind: "run", command: facts.onPath, args: ["serve"], origin: "path", skipped };
  }
  return {
    kind: "missing",
    installInto: installInto?.value,
    installOrigin: installInto?.origin,
    skipped,
  };
}

/** The command line that runs a CLI subcommand (`graph`, `check`) the way the server runs. */
export function cliCommand(
  plan: Extract<LaunchPlan, { kind: "run" }>,
  args: string[],
): { command: string; args: string[] } {
  if (plan.python !== undefined) {
    return { command: plan.python, args: moduleArgs(SERVER_MODULE, ...args) };
  }
  return { command: plan.command, args };
}

/** `python -P -m pip install migration-lsp` for the install button, as a shell line (the
 * terminal starts in the workspace folder, so `-P` here too). */
export function installCommand(python: string, platform: NodeJS.Platform): string {
  const quoted = platform === "win32" ? `& "${python}"` : `'${python.replace(/'/g, `'\\''`)}'`;
  return `${quoted} ${moduleArgs("pip", "install", "--upgrade", SERVER_COMMAND).join(" ")}`;
}

/** `~` and `${workspaceFolder}` in a path setting; relative paths against the first folder. */
export function expandPath(
  value: string,
  workspaceFolders: string[],
  home: string,
  platform: NodeJS.Platform,
): string {
  const lib = platform === "win32" ? path.win32 : path.posix;
  let expanded = value.trim();
  if (expanded === "") {
    return expanded;
  }
  const first = workspaceFolders[0];
  if (first !== undefined) {
    expanded = expanded.replace(/\$\{workspaceFolder\}/g, first);
  }
  if (expanded === "~" || expanded.startsWith("~/") || expanded.startsWith("~\\")) {
    expanded = home + expanded.slice(1);
  }
  if (!lib.isAbsolute(expanded) && first !== undefined && /[\\/]/.test(expanded)) {
    expanded = lib.join(first, expanded);
  }
  return expanded;
}

/** A one-line account of the choice, for the log. */
export function describe(plan: LaunchPlan): string {
  const skipped = plan.skipped.map((s) => `${s.value} (${s.origin}: ${s.reason})`);
  const notes = skipped.length ? `; skipped ${skipped.join(", ")}` : "";
  if (plan.kind === "run") {
    return `starting ${[plan.command, ...plan.args].join(" ")} (from ${plan.origin})${notes}`;
  }
  return `migration-lsp not found${notes}`;
}
