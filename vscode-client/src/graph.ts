/**
 * "Show Migration Graph": the `migration-lsp graph` output of a workspace folder in a read-only
 * virtual document (`migration-lsp-graph:` URIs), rendered again each time the command runs.
 */
import * as path from "node:path";
import * as vscode from "vscode";

import { runCli } from "./cli";
import { LaunchPlan } from "./launch";

export const GRAPH_SCHEME = "migration-lsp-graph";
export const GRAPH_FORMATS = ["text", "mermaid", "dot", "json"] as const;
export type GraphFormat = (typeof GRAPH_FORMATS)[number];
const EXTENSIONS: Record<GraphFormat, string> = {
  text: "txt",
  mermaid: "mmd",
  dot: "dot",
  json: "json",
};

export function graphUri(folder: string, format: GraphFormat): vscode.Uri {
  return vscode.Uri.from({
    scheme: GRAPH_SCHEME,
    path: `/${path.basename(folder) || "workspace"} migrations.${EXTENSIONS[format]}`,
    query: new URLSearchParams({ folder, format }).toString(),
  });
}

export class GraphProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changes = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changes.event;

  constructor(private readonly plan: () => Extract<LaunchPlan, { kind: "run" }> | undefined) {}

  refresh(uri: vscode.Uri): void {
    if (vscode.workspace.textDocuments.some((d) => d.uri.toString() === uri.toString())) {
      this.changes.fire(uri);
    }
  }

  dispose(): void {
    this.changes.dispose();
  }

  async provideTextDocumentContent(
    uri: vscode.Uri,
    token: vscode.CancellationToken,
  ): Promise<string> {
    const query = new URLSearchParams(uri.query);
    const folder = query.get("folder") ?? "";
    const format = (query.get("format") ?? "text") as GraphFormat;
    const plan = this.plan();
    if (plan === undefined) {
      return "migration-lsp is not running: see the migration-lsp output (Show Logs).";
    }
    const result = await runCli(plan, ["graph", folder, "--format", format], folder, token);
    if (result.code !== 0 && !result.stdout) {
      return `migration-lsp graph failed (exit code ${result.code}):\n${result.stderr}`;
    }
    return result.stdout || result.stderr;
  }
}

/** Ask for the folder when there are several; undefined when there is none. */
export async function pickFolder(): Promise<string | undefined> {
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === "file");
  if (folders.length <= 1) {
    return folders[0]?.uri.fsPath;
  }
  const picked = await vscode.window.showWorkspaceFolderPick({
    placeHolder: "Show the migration graph of which folder?",
  });
  return picked?.uri.fsPath;
}
