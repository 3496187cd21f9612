/**
 * migration-lsp for VS Code: starts `migration-lsp serve` (see launch.ts for which program),
 * shows the detected projects in a status item, and adds the commands the server cannot
 * offer by itself (restart, logs, migration graph, check the whole workspace, install).
 */
import * as vscode from "vscode";
import {
  DidChangeConfigurationNotification,
  DocumentSelector,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  State,
} from "vscode-languageclient/node";

import { WorkspaceCheck } from "./check";
import { SECTION, discover } from "./discover";
import {
  GRAPH_FORMATS,
  GRAPH_SCHEME,
  GraphFormat,
  GraphProvider,
  graphUri,
  pickFolder,
} from "./graph";
import { LaunchPlan, describe, installCommand } from "./launch";
import { Project, ProjectsNotification, projectLine, statusText, statusTooltip } from "./projects";
import { onInterpreterChange } from "./python";
import { RESTART_SETTINGS, serverSettings } from "./settings";

const PROJECTS_NOTIFICATION = "migrationLsp/projects";
const SHOW_PROJECTS = "migration-lsp.showProjects";

/** Every language a supported migration file can be written in (plus Prisma's schema). */
const LANGUAGES = [
  "python",
  "sql",
  "ruby",
  "php",
  "javascript",
  "typescript",
  "javascriptreact",
  "typescriptreact",
  "xml",
  "yaml",
  "json",
  "prisma",
];
export const DOCUMENT_SELECTOR: DocumentSelector = [
  ...LANGUAGES.map((language) => ({ scheme: "file", language })),
  { scheme: "file", pattern: "**/*.prisma" },
];

type Running = Extract<LaunchPlan, { kind: "run" }>;

class Controller implements vscode.Disposable {
  readonly log = vscode.window.createOutputChannel("migration-lsp", { log: true });
  private readonly status = vscode.window.createStatusBarItem(
    "migrationLsp.status",
    vscode.StatusBarAlignment.Left,
    50,
  );
  private readonly check = new WorkspaceCheck(this.log);
  private client: LanguageClient | undefined;
  private plan: LaunchPlan | undefined;
  private projects: Project[] = [];
  private starting: Promise<void> | undefined;
  private readonly warned = new Set<string>();

  constructor() {
    this.status.name = "migration-lsp";
    this.setStatus("$(sync~spin) migration-lsp", "Starting the migration-lsp server…");
    this.status.show();
  }

  running(): Running | undefined {
    return this.plan?.kind === "run" ? this.plan : undefined;
  }

  /** Start, or restart when running; restarts run one after another, never interleaved. */
  restart(): Promise<void> {
    const previous = (this.starting ?? Promise.resolve()).catch(() => undefined);
    this.starting = previous
      .then(() => this.stop())
      .then(() => this.start())
      .catch((error: unknown) => {
        this.log.error(`starting the server failed: ${String(error)}`);
        this.setStatus(
          "$(error) migration-lsp",
          `migration-lsp: ${String(error)}`,
          "migrationLsp.showLogs",
        );
      });
    return this.starting;
  }

  private async start(): Promise<void> {
    this.setStatus("$(sync~spin) migration-lsp", "Starting the migration-lsp server…");
    const plan = await discover(this.log);
    this.plan = plan;
    this.log.info(describe(plan));
    this.warnAboutSkipped(plan);
    if (plan.kind === "missing") {
      this.setStatus(
        "$(warning) migration-lsp",
        "The migration-lsp server is not installed: click to install it.",
        "migrationLsp.installServer",
      );
      void this.offerInstall(plan);
      return;
    }
    const client = new LanguageClient(
      "migrationLsp",
      "migration-lsp",
      this.serverOptions(plan),
      this.clientOptions(),
    );
    this.client = client;
    client.onDidChangeState((event) => {
      if (event.newState === State.Stopped && this.client === client) {
        this.setStatus(
          "$(error) migration-lsp",
          "The migration-lsp server stopped: click to see its log.",
          "migrationLsp.showLogs",
        );
      }
    });
    // registered before start: the server announces the projects as soon as it is initialized
    client.onNotification(PROJECTS_NOTIFICATION, (params: ProjectsNotification) => {
      this.showProjects(params.projects ?? []);
    });
    try {
      await client.start();
    } catch (error) {
      this.log.error(`could not start the server: ${String(error)}`);
      this.setStatus(
        "$(error) migration-lsp",
        `The migration-lsp server failed to start: ${String(error)}. Click to see its log.`,
        "migrationLsp.showLogs",
      );
      return;
    }
    this.showProjects(this.projects);
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client !== undefined) {
      try {
        await client.stop(5000);
      } catch (error) {
        this.log.warn(`stopping the server: ${String(error)}`);
      }
      await client.dispose();
    }
  }

  private serverOptions(plan: Running): ServerOptions {
    const cwd = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === "file")?.uri.fsPath;
    return {
      command: plan.command,
      args: plan.args,
      options: { cwd, env: { ...process.env, PYTHONIOENCODING: "utf-8" } },
    };
  }

  private clientOptions(): LanguageClientOptions {
    return {
      documentSelector: DOCUMENT_SELECTOR,
      outputChannel: this.log,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      diagnosticPullOptions: { onChange: true, onSave: true },
      middleware: {
        workspace: {
          configuration: async (params, token, next) => {
            const result = await next(params, token);
            if (!Array.isArray(result)) {
              return result;
            }
            return result.map((value, index) =>
              params.items[index]?.section === SECTION ? serverSettings(value) : value,
            );
          },
        },
      },
    };
  }

  /** The server's options changed: it asks for them again (`workspace/configuration`). */
  async settingsChanged(event: vscode.ConfigurationChangeEvent): Promise<void> {
    if (RESTART_SETTINGS.some((key) => event.affectsConfiguration(`${SECTION}.${key}`))) {
      await this.restart();
      return;
    }
    if (this.client?.isRunning()) {
      await this.client.sendNotification(DidChangeConfigurationNotification.type, {
        settings: null,
      });
    }
  }

  private showProjects(projects: Project[]): void {
    this.projects = projects;
    if (!this.client) {
      return;
    }
    this.setStatus(
      `$(database) ${statusText(projects)}`,
      new vscode.MarkdownString(statusTooltip(projects)),
      "migrationLsp.showProjects",
    );
  }

  private setStatus(text: string, tooltip: string | vscode.MarkdownString, command?: string): void {
    this.status.text = text;
    this.status.tooltip = tooltip;
    this.status.command = command;
  }

  /** A setting the user made that cannot be used is worth a notification, once. */
  private warnAboutSkipped(plan: LaunchPlan): void {
    for (const skipped of plan.skipped) {
      const key = `${skipped.value}\u0000${skipped.reason}`;
      if (this.warned.has(key) || skipped.reason.includes("not installed")) {
        continue;
      }
      this.warned.add(key);
      void vscode.window.showWarningMessage(
        `migration-lsp: not using ${skipped.value}: ${skipped.reason}.`,
      );
    }
  }

  private async offerInstall(plan: Extract<LaunchPlan, { kind: "missing" }>): Promise<void> {
    const install = plan.installInto ? "Install" : undefined;
    const where = plan.installInto
      ? `Install it into ${plan.installInto}?`
      : "Select a Python interpreter (or set migrationLsp.interpreter / migrationLsp.server.path) to install it into.";
    const choice = await vscode.window.showWarningMessage(
      `migration-lsp: the language server (the Python package migration-lsp) was not found. ${where}`,
      ...[install, "Open Settings", "Show Logs"].filter((c): c is string => c !== undefined),
    );
    if (choice === "Install") {
      await this.install();
    } else if (choice === "Open Settings") {
      await vscode.commands.executeCommand("workbench.action.openSettings", "migrationLsp.");
    } else if (choice === "Show Logs") {
      this.log.show();
    }
  }

  /** `python -P -m pip install migration-lsp` in a terminal; restart once it has succeeded. */
  async install(): Promise<void> {
    const plan = this.plan;
    const python = plan?.kind === "missing" ? plan.installInto : plan?.python;
    if (python === undefined) {
      await vscode.window.showErrorMessage(
        "migration-lsp: no Python interpreter to install into. Select one in the Python extension or set migrationLsp.interpreter.",
      );
      return;
    }
    const terminal = vscode.window.createTerminal({ name: "migration-lsp: install" });
    terminal.show();
    const line = installCommand(python, process.platform);
    const integration = await shellIntegration(terminal);
    if (integration === undefined) {
      terminal.sendText(line);
      const choice = await vscode.window.showInformationMessage(
        "migration-lsp: restart the server once the install has finished.",
        "Restart Server",
      );
      if (choice) {
        await this.restart();
      }
      return;
    }
    const execution = integration.executeCommand(line);
    const done = vscode.window.onDidEndTerminalShellExecution(async (event) => {
      if (event.execution !== execution) {
        return;
      }
      done.dispose();
      if (event.exitCode === 0) {
        void vscode.window.showInformationMessage("migration-lsp installed: starting the server.");
        await this.restart();
      } else {
        void vscode.window.showErrorMessage(
          `migration-lsp: the install failed (exit code ${event.exitCode}); see the terminal.`,
        );
      }
    });
  }

  async pickProject(): Promise<void> {
    let projects = this.projects;
    if (this.client?.isRunning()) {
      try {
        const result: unknown = await this.client.sendRequest(ExecuteCommandRequest.type, {
          command: SHOW_PROJECTS,
          arguments: [],
        });
        if (Array.isArray(result)) {
          projects = result as Project[];
        }
      } catch (error) {
        this.log.warn(`${SHOW_PROJECTS} failed: ${String(error)}`);
      }
    }
    if (projects.length === 0) {
      await vscode.window.showInformationMessage(
        this.client
          ? "migration-lsp found no migration project in this workspace."
          : "migration-lsp is not running.",
      );
      return;
    }
    const picked = await vscode.window.showQuickPick(
      projects.map((project) => ({
        label: project.tool,
        description: projectLine(project).replace(/\\|`/g, ""),
        detail: project.migrations.join(", ") || project.root,
        project,
      })),
      { placeHolder: "Detected migration projects: pick one to reveal its migrations" },
    );
    const target = picked?.project.migrations[0] ?? picked?.project.root;
    if (target) {
      await vscode.commands.executeCommand("revealInExplorer", vscode.Uri.file(target));
    }
  }

  async runCheck(): Promise<void> {
    const plan = this.running();
    if (plan === undefined) {
      await vscode.window.showWarningMessage(
        "migration-lsp is not installed: nothing can check the workspace.",
      );
      return;
    }
    try {
      const { problems, files } = await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: "migration-lsp: checking the workspace",
          cancellable: true,
        },
        (_progress, token) => this.check.run(plan, token),
      );
      const choice = await vscode.window.showInformationMessage(
        problems
          ? `migration-lsp: ${problems} problem(s) in ${files} migration file(s).`
          : "migration-lsp: no problems found.",
        ...(problems ? ["Show Problems"] : []),
      );
      if (choice) {
        await vscode.commands.executeCommand("workbench.actions.view.problems");
      }
    } catch (error) {
      await vscode.window.showErrorMessage(
        `migration-lsp check failed: ${(error as Error).message}`,
      );
    }
  }

  clearCheck(): void {
    this.check.clear();
  }

  dispose(): void {
    void this.stop();
    this.check.dispose();
    this.status.dispose();
    this.log.dispose();
  }
}

/** The terminal's shell integration, if it comes up within a few seconds. */
async function shellIntegration(
  terminal: vscode.Terminal,
): Promise<vscode.TerminalShellIntegration | undefined> {
  if (terminal.shellIntegration) {
    return terminal.shellIntegration;
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      listener.dispose();
      resolve(undefined);
    }, 4000);
    const listener = vscode.window.onDidChangeTerminalShellIntegration((event) => {
      if (event.terminal === terminal) {
        clearTimeout(timer);
        listener.dispose();
        resolve(event.shellIntegration);
      }
    });
  });
}

let controller: Controller | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const current = new Controller();
  controller = current;
  const graphs = new GraphProvider(() => current.running());
  context.subscriptions.push(
    current,
    graphs,
    vscode.workspace.registerTextDocumentContentProvider(GRAPH_SCHEME, graphs),
    vscode.commands.registerCommand("migrationLsp.restartServer", () => current.restart()),
    vscode.commands.registerCommand("migrationLsp.showLogs", () => current.log.show()),
    vscode.commands.registerCommand("migrationLsp.showProjects", () => current.pickProject()),
    vscode.commands.registerCommand("migrationLsp.checkWorkspace", () => current.runCheck()),
    vscode.commands.registerCommand("migrationLsp.clearCheck", () => current.clearCheck()),
    vscode.commands.registerCommand("migrationLsp.installServer", () => current.install()),
    vscode.commands.registerCommand("migrationLsp.showGraph", async (format?: GraphFormat) => {
      const folder = await pickFolder();
      if (folder === undefined) {
        await vscode.window.showInformationMessage("migration-lsp: open a folder first.");
        return;
      }
      const chosen = format && GRAPH_FORMATS.includes(format) ? format : "text";
      const uri = graphUri(folder, chosen);
      graphs.refresh(uri); // an open graph is rendered again
      const document = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(document, { preview: false });
    }),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(SECTION)) {
        void current.settingsChanged(event);
      }
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => current.restart()),
    vscode.workspace.onDidChangeWorkspaceFolders(() => {
      // the server follows folder changes itself; the launch choice depends on the folders
      // only in Restricted Mode
      if (!vscode.workspace.isTrusted) {
        void current.restart();
      }
    }),
  );
  const interpreterChanges = await onInterpreterChange(() => void current.restart());
  if (interpreterChanges) {
    context.subscriptions.push(interpreterChanges);
  }
  await current.restart();
}

export async function deactivate(): Promise<void> {
  await controller?.stop();
  controller = undefined;
}
