/**
 * Gathers what `chooseLaunch` decides from: the settings with the scope each value comes from,
 * the Python extension's interpreter, PATH, workspace trust, and which interpreters have the
 * server installed (probed with a short-lived `python -P -c "import migration_lsp"`: `-P` so a
 * `migration_lsp/` folder in the current directory does not count as an installed server).
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as vscode from "vscode";

import {
  LaunchFacts,
  LaunchPlan,
  PROBE_ARGS,
  SERVER_COMMAND,
  SERVER_MODULE,
  Setting,
  chooseLaunch,
  expandPath,
  untrustedReason,
} from "./launch";
import { selectedInterpreter } from "./python";

export const SECTION = "migrationLsp";
const PROBE_TIMEOUT_MS = 15_000;

function folders(): string[] {
  return (vscode.workspace.workspaceFolders ?? [])
    .filter((f) => f.uri.scheme === "file")
    .map((f) => f.uri.fsPath);
}

/** Resolve a bare program name through PATH (the way a spawn would find it). */
export function which(name: string): string | undefined {
  if (name.includes("/") || name.includes("\\")) {
    return isFile(name) ? name : undefined;
  }
  const extensions =
    process.platform === "win32" ? (process.env.PATHEXT ?? ".EXE").split(";") : [""];
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!dir) {
      continue;
    }
    for (const extension of extensions) {
      const candidate = path.join(dir, name + extension);
      if (isFile(candidate)) {
        return candidate;
      }
    }
  }
  return undefined;
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** A path setting's values by scope, most specific first, expanded. */
function settingValues(key: string, resource?: vscode.Uri): Setting[] {
  const inspected = vscode.workspace.getConfiguration(SECTION, resource).inspect<string>(key);
  const expand = (value: string | undefined): string | undefined => {
    if (!value || !value.trim()) {
      return undefined;
    }
    const expanded = expandPath(value, folders(), os.homedir(), process.platform);
    return which(expanded) ?? expanded;
  };
  const values: Setting[] = [];
  for (const [value, origin] of [
    [inspected?.workspaceFolderValue, "workspace"],
    [inspected?.workspaceValue, "workspace"],
    [inspected?.globalValue, "user"],
  ] as const) {
    const expanded = expand(value);
    if (expanded !== undefined) {
      values.push({ value: expanded, origin });
    }
  }
  return values;
}

function probe(python: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(python, PROBE_ARGS, { timeout: PROBE_TIMEOUT_MS, windowsHide: true }, (error) =>
      resolve(error === null),
    );
  });
}

export async function gatherFacts(log: vscode.LogOutputChannel): Promise<LaunchFacts> {
  const resource = vscode.workspace.workspaceFolders?.[0]?.uri;
  const serverPath = settingValues("server.path", resource);
  const interpreter = settingValues("interpreter", resource);
  const fromExtension = await selectedInterpreter(resource);
  const pythonExtension = fromExtension ? (which(fromExtension) ?? fromExtension) : undefined;
  const trusted = vscode.workspace.isTrusted;
  const workspaceFolders = folders();

  // probe only the interpreters that may run: never start a workspace program untrusted
  const candidates = new Set<string>();
  for (const setting of interpreter) {
    if (
      untrustedReason(setting.value, setting.origin, { trusted, workspaceFolders }) === undefined
    ) {
      candidates.add(setting.value);
    }
  }
  if (
    pythonExtension &&
    untrustedReason(pythonExtension, "python-extension", { trusted, workspaceFolders }) ===
      undefined
  ) {
    candidates.add(pythonExtension);
  }
  const probed = new Map<string, boolean>();
  await Promise.all(
    [...candidates].map(async (python) => {
      const ok = await probe(python);
      probed.set(python, ok);
      log.debug(`${python}: ${SERVER_MODULE} ${ok ? "importable" : "not importable"}`);
    }),
  );
  return {
    serverPath,
    interpreter,
    pythonExtension,
    onPath: which(SERVER_COMMAND),
    trusted,
    workspaceFolders,
    isFile,
    hasServer: (python) => probed.get(python) ?? false,
    platform: process.platform,
  };
}

export async function discover(log: vscode.LogOutputChannel): Promise<LaunchPlan> {
  return chooseLaunch(await gatherFacts(log));
}
