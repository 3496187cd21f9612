/**
 * "Check Workspace": `migration-lsp check --format json` on every workspace folder, results in
 * the Problems panel. A file that is open shows the server's live diagnostics instead, so its
 * check results are dropped (no duplicates, nothing stale while typing).
 */
import * as fs from "node:fs";
import * as vscode from "vscode";

import { runCli } from "./cli";
import { Problem, parseFindings, problemsByFile } from "./findings";
import { LaunchPlan } from "./launch";

const SEVERITIES: Record<Problem["severity"], vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
  hint: vscode.DiagnosticSeverity.Hint,
};

function toDiagnostic(problem: Problem): vscode.Diagnostic {
  const range = new vscode.Range(
    problem.start.line,
    problem.start.character,
    problem.end.line,
    problem.end.character,
  );
  const diagnostic = new vscode.Diagnostic(range, problem.message, SEVERITIES[problem.severity]);
  diagnostic.source = "migration-lsp";
  diagnostic.code = problem.url
    ? { value: problem.rule, target: vscode.Uri.parse(problem.url) }
    : problem.rule;
  return diagnostic;
}

function readLines(file: string): string[] | undefined {
  try {
    return fs.readFileSync(file, "utf8").split(/\r\n|\r|\n/);
  } catch {
    return undefined;
  }
}

export class WorkspaceCheck implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection("migration-lsp check");
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly log: vscode.LogOutputChannel) {
    this.subscriptions = [
      this.collection,
      vscode.workspace.onDidOpenTextDocument((document) => this.collection.delete(document.uri)),
    ];
  }

  clear(): void {
    this.collection.clear();
  }

  /** Check every workspace folder; returns the number of problems and files. */
  async run(
    plan: Extract<LaunchPlan, { kind: "run" }>,
    token: vscode.CancellationToken,
  ): Promise<{ problems: number; files: number }> {
    this.collection.clear();
    const open = new Set(vscode.workspace.textDocuments.map((d) => d.uri.toString()));
    let problems = 0;
    let files = 0;
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      if (folder.uri.scheme !== "file" || token.isCancellationRequested) {
        continue;
      }
      const cwd = folder.uri.fsPath;
      const result = await runCli(
        plan,
        ["check", ".", "--format", "json", "--exit-zero"],
        cwd,
        token,
      );
      if (token.isCancellationRequested) {
        break;
      }
      if (result.code !== 0) {
        this.log.error(`migration-lsp check in ${cwd} failed (${result.code}): ${result.stderr}`);
        throw new Error(result.stderr.trim() || `migration-lsp check exited with ${result.code}`);
      }
      if (result.stderr.trim()) {
        this.log.info(result.stderr.trim());
      }
      for (const [file, found] of problemsByFile(parseFindings(result.stdout), cwd, readLines)) {
        const uri = vscode.Uri.file(file);
        problems += found.length;
        files += 1;
        if (!open.has(uri.toString())) {
          this.collection.set(uri, found.map(toDiagnostic));
        }
      }
    }
    return { problems, files };
  }

  dispose(): void {
    vscode.Disposable.from(...this.subscriptions).dispose();
  }
}
