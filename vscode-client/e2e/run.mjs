// End-to-end test in a real VS Code: code-server (the VS Code workbench) with the built .vsix
// installed, driven through its UI by Chromium (playwright-core). It records what it saw in a
// JSON file; tests/editors/test_vscode.py asserts on it.
//
//   node e2e/run.mjs
//
// Environment (all optional except where noted):
//   MIGRATION_LSP_E2E_HOME      where scripts/install-code-server.sh installed Node 24 and
//                               code-server (its tools.env is read)
//   MIGRATION_LSP_E2E_VSIX      the extension (default dist/migration-lsp.vsix)
//   MIGRATION_LSP_E2E_SERVER    the migration-lsp executable (default ../.venv/bin/migration-lsp)
//   MIGRATION_LSP_E2E_WORKSPACE folder copied as the workspace (default ../examples)
//   MIGRATION_LSP_E2E_OUT       results JSON (default <tmp>/results.json)
//   MIGRATION_LSP_E2E_SCREENSHOT  where to save the screenshot of the diagnostics
//   MIGRATION_LSP_E2E_TMP       scratch folder (default: a new temporary folder)
//   MIGRATION_LSP_E2E_BUDGET_MS the whole run's deadline (default 180000)
//   CHROMIUM                    the browser (default /usr/bin/chromium)
import { spawn, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CLIENT = path.resolve(HERE, "..");
const REPO = path.resolve(CLIENT, "..");
const env = process.env;
const started = Date.now();

const MIGRATION = "billing-api/migrations/versions/4e2d8b6a0c93_add_invoice_due_date.py";
const INDEX_LINE = 22; // op.create_index('ix_invoices_due_date', ...)
const INDEX_COLUMN = 5;
/** full: every feature; missing: no server anywhere; restricted: an untrusted workspace. */
const SCENARIO = env.MIGRATION_LSP_E2E_SCENARIO ?? "full";

const tmp =
  env.MIGRATION_LSP_E2E_TMP ?? fs.mkdtempSync(path.join(os.tmpdir(), "migration-lsp-e2e-"));
const outFile = env.MIGRATION_LSP_E2E_OUT ?? path.join(tmp, "results.json");
const budget = Number(env.MIGRATION_LSP_E2E_BUDGET_MS ?? 180_000);
const results = { steps: [], tmp };

function tools() {
  const home =
    env.MIGRATION_LSP_E2E_HOME ??
    path.join(
      env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"),
      "migration-lsp",
      "vscode-e2e",
    );
  const file = path.join(home, "tools.env");
  if (!fs.existsSync(file)) {
    throw new Error(`${file} is missing: run vscode-client/scripts/install-code-server.sh`);
  }
  const values = Object.fromEntries(
    fs
      .readFileSync(file, "utf8")
      .split("\n")
      .filter((line) => line.includes("="))
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
  return { node: values.node, codeServer: values.code_server };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll `check` until it returns something truthy. */
async function until(what, check, timeout = 30_000, every = 200) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    }
    await sleep(every);
  }
}

async function step(name, action) {
  const begin = Date.now();
  try {
    const value = await action();
    results.steps.push({ name, ms: Date.now() - begin });
    return value;
  } catch (error) {
    results.steps.push({ name, ms: Date.now() - begin, error: String(error) });
    throw new Error(`${name}: ${error instanceof Error ? error.message : error}`);
  }
}

/** The editor renders spaces as U+00A0. */
const plain = (text) => (text ?? "").replace(/\u00a0/g, " ");

function save() {
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  results.elapsed_ms = Date.now() - started;
  fs.writeFileSync(outFile, JSON.stringify(results, null, 2));
}

let codeServer;
let browser;

async function main() {
  const { node, codeServer: codeServerBin } = tools();
  const vsix = path.resolve(
    env.MIGRATION_LSP_E2E_VSIX ?? path.join(CLIENT, "dist", "migration-lsp.vsix"),
  );
  const server = path.resolve(
    env.MIGRATION_LSP_E2E_SERVER ?? path.join(REPO, ".venv", "bin", "migration-lsp"),
  );
  const source = path.resolve(env.MIGRATION_LSP_E2E_WORKSPACE ?? path.join(REPO, "examples"));
  for (const [what, file] of [
    ["the .vsix", vsix],
    ["the server", server],
    ["node 24", node],
  ]) {
    if (!fs.existsSync(file)) {
      throw new Error(`${what} is missing: ${file}`);
    }
  }

  // a fresh profile and a copy of the workspace for every run
  const userData = path.join(tmp, "user-data");
  const extensions = path.join(tmp, "extensions");
  const workspace = path.join(tmp, path.basename(source));
  const config = path.join(tmp, "code-server.yaml");
  fs.rmSync(workspace, { recursive: true, force: true });
  fs.cpSync(source, workspace, { recursive: true });
  fs.mkdirSync(path.join(userData, "User"), { recursive: true });
  fs.writeFileSync(config, "auth: none\ncert: false\n");
  const settings = {
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": false,
    "workbench.enableExperiments": false,
    "workbench.secondarySideBar.defaultVisibility": "hidden",
    "chat.disableAIFeatures": true,
    "extensions.ignoreRecommendations": true,
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    "security.workspace.trust.enabled": false,
    "files.autoSave": "off",
    "editor.minimap.enabled": false,
    "editor.hover.delay": 200,
    "window.zoomLevel": 0,
  };
  // code-server must not read or write the user's home configuration
  const childEnv = {
    ...env,
    PATH: `${path.dirname(node)}${path.delimiter}${env.PATH}`,
    XDG_CONFIG_HOME: path.join(tmp, "xdg-config"),
    XDG_DATA_HOME: path.join(tmp, "xdg-data"),
  };
  if (SCENARIO === "full") {
    settings["migrationLsp.server.path"] = server;
  } else if (SCENARIO === "missing") {
    // an interpreter without the package, and no migration-lsp on PATH
    settings["migrationLsp.interpreter"] = env.MIGRATION_LSP_E2E_BARE_PYTHON ?? "/usr/bin/python3";
    childEnv.PATH = childEnv.PATH.split(path.delimiter)
      .filter((dir) => dir && !fs.existsSync(path.join(dir, "migration-lsp")))
      .join(path.delimiter);
  } else if (SCENARIO === "restricted") {
    // programs inside the workspace, named by the workspace's settings and by a user setting
    // with ${workspaceFolder}: neither may run; the user's interpreter outside it must
    settings["security.workspace.trust.enabled"] = true;
    settings["security.workspace.trust.startupPrompt"] = "never";
    settings["migrationLsp.server.path"] = "${workspaceFolder}/.venv/bin/migration-lsp";
    settings["migrationLsp.interpreter"] = path.join(path.dirname(server), "python");
    const marker = path.join(tmp, "workspace-program-ran");
    const traps = [
      path.join(workspace, "tools", "migration-lsp"),
      path.join(workspace, ".venv", "bin", "migration-lsp"),
    ];
    for (const trap of traps) {
      fs.mkdirSync(path.dirname(trap), { recursive: true });
      fs.writeFileSync(trap, `#!/bin/sh\necho "$0" >>"${marker}"\nexec "${server}" "$@"\n`);
      fs.chmodSync(trap, 0o755);
    }
    fs.mkdirSync(path.join(workspace, ".vscode"), { recursive: true });
    fs.writeFileSync(
      path.join(workspace, ".vscode", "settings.json"),
      JSON.stringify({ "migrationLsp.server.path": traps[0] }, null, 2),
    );
    results.traps = traps;
  } else {
    throw new Error(`unknown scenario ${SCENARIO}`);
  }
  fs.writeFileSync(path.join(userData, "User", "settings.json"), JSON.stringify(settings, null, 2));
  results.scenario = SCENARIO;
  results.workspace = workspace;
  results.user_data = userData;

  const common = ["--config", config, "--user-data-dir", userData, "--extensions-dir", extensions];

  await step("install the .vsix", async () => {
    const out = execFileSync(codeServerBin, [...common, "--install-extension", vsix], {
      env: childEnv,
      encoding: "utf8",
      timeout: 120_000,
    });
    results.install_output = out.trim();
    const installed = fs
      .readdirSync(extensions)
      .filter((name) => name.startsWith("migration-lsp.migration-lsp-"));
    if (installed.length !== 1) {
      throw new Error(`extension not installed: ${fs.readdirSync(extensions)}`);
    }
    results.installed = installed[0];
  });

  const port = await freePort();
  const log = fs.openSync(path.join(tmp, "code-server.log"), "w");
  codeServer = spawn(
    codeServerBin,
    [
      ...common,
      "--auth",
      "none",
      "--bind-addr",
      `127.0.0.1:${port}`,
      "--disable-telemetry",
      "--disable-update-check",
      ...(SCENARIO === "restricted" ? [] : ["--disable-workspace-trust"]),
      "--disable-getting-started-override",
      "--ignore-last-opened",
      workspace,
    ],
    // its own process group: stopping it stops the extension host and the language server
    { env: childEnv, stdio: ["ignore", log, log], detached: true },
  );
  results.code_server_pid = codeServer.pid;
  const base = `http://127.0.0.1:${port}`;
  await step("code-server is up", () =>
    until(
      "/healthz",
      async () => {
        if (codeServer.exitCode !== null) {
          throw new Error(`code-server exited with ${codeServer.exitCode}`);
        }
        try {
          return (await fetch(`${base}/healthz`)).ok;
        } catch {
          return false;
        }
      },
      60_000,
      250,
    ),
  );

  browser = await chromium.launch({
    executablePath: env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-dev-shm-usage",
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const consoleErrors = [];
  page.on("console", (message) => {
    if (message.type() === "error") {
      consoleErrors.push(message.text().slice(0, 300));
    }
  });
  results.console_errors = consoleErrors;

  await step("open the workspace", async () => {
    await page.goto(`${base}/?folder=${encodeURIComponent(workspace)}`);
    await page.locator(".monaco-workbench").waitFor({ timeout: 60_000 });
  });

  if (SCENARIO === "missing") {
    await missing(page);
  } else if (SCENARIO === "restricted") {
    await restricted(page);
  } else {
    await full(page, workspace);
  }
}

/** The notification a user without the server sees, and the status item. */
async function missing(page) {
  const toast = page.locator(".notifications-toasts .notification-toast", {
    hasText: "was not found",
  });
  results.notification = await step("the server-missing notification", async () => {
    await toast.first().waitFor({ timeout: 60_000 });
    return {
      text: plain(await toast.first().locator(".notification-list-item-message").innerText()),
      buttons: (await toast.first().locator(".monaco-button").allInnerTexts()).map((t) =>
        plain(t).trim(),
      ),
    };
  });
  results.status = plain(
    await page
      .locator(".part.statusbar .statusbar-item", { hasText: "migration-lsp" })
      .first()
      .innerText(),
  );
  results.log = extensionLog();
}

/** Restricted Mode: the workspace's own program never runs, the user's interpreter does. */
async function restricted(page) {
  const statusBar = page.locator(".part.statusbar");
  results.status = await step("the server runs from the user's interpreter", async () => {
    const item = statusBar.locator(".statusbar-item", { hasText: "alembic" });
    await item.first().waitFor({ timeout: 60_000 });
    return plain(await item.first().innerText());
  });
  const toast = page.locator(".notifications-toasts .notification-toast", { hasText: "not using" });
  results.notification = await step("a notification says what was not run", async () => {
    await toast.first().waitFor({ timeout: 20_000 });
    return plain(await toast.first().locator(".notification-list-item-message").innerText());
  });
  results.restricted_banner = await page
    .locator(".part.statusbar .statusbar-item", { hasText: "Restricted Mode" })
    .count();
  await openMigration(page);
  results.squiggles = await step("squiggles", async () => {
    await page
      .locator(".editor-instance .monaco-editor .squiggly-warning")
      .first()
      .waitFor({ timeout: 60_000 });
    return page.locator(".editor-instance .monaco-editor .squiggly-warning").count();
  });
  const marker = path.join(tmp, "workspace-program-ran");
  results.workspace_programs_ran = fs.existsSync(marker) ? fs.readFileSync(marker, "utf8") : "";
  results.log = extensionLog();
}

/** The extension's output channel, as written to the profile's logs. */
function extensionLog() {
  const logs = path.join(tmp, "user-data", "logs");
  const found = [];
  const walk = (dir) => {
    for (const entry of fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }) : []) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(full);
      } else if (entry.name === "migration-lsp.log") {
        found.push(fs.readFileSync(full, "utf8"));
      }
    }
  };
  walk(logs);
  return found.join("\n");
}

async function openMigration(page) {
  const quickInput = page.locator(".quick-input-widget");
  await step("open the unsafe migration", async () => {
    await page.keyboard.press("Control+P");
    await quickInput.waitFor({ state: "visible" });
    await page.keyboard.type(path.basename(MIGRATION));
    await page.locator(".quick-input-list .monaco-list-row").first().waitFor();
    await page.keyboard.press("Enter");
    await page
      .locator(".tabs-container .tab.active", { hasText: path.basename(MIGRATION) })
      .waitFor();
    await page.locator(".editor-instance .monaco-editor .view-lines").first().waitFor();
  });
}

async function full(page, workspace) {
  const statusBar = page.locator(".part.statusbar");
  results.status = await step("status item shows the detected tools", async () => {
    const item = statusBar.locator(".statusbar-item", { hasText: "alembic" });
    await item.first().waitFor({ timeout: 60_000 });
    return plain(await item.first().innerText());
  });

  const editor = page.locator(".editor-instance .monaco-editor").first();
  const quickInput = page.locator(".quick-input-widget");

  async function quickOpen(keys, text) {
    await page.keyboard.press(keys);
    await quickInput.waitFor({ state: "visible" });
    await page.keyboard.type(text);
  }

  await openMigration(page);

  results.squiggles = await step("squiggles", async () => {
    await editor.locator(".squiggly-warning").first().waitFor({ timeout: 60_000 });
    return {
      warning: await editor.locator(".squiggly-warning").count(),
      error: await editor.locator(".squiggly-error").count(),
    };
  });

  const problems = page.locator(".markers-panel");
  const problemRows = problems.locator(".monaco-list-row");
  async function problemTexts() {
    return (await problemRows.allInnerTexts()).map((text) =>
      plain(text).replace(/\s+/g, " ").trim(),
    );
  }

  results.problems = await step("Problems panel", async () => {
    await page.keyboard.press("Control+Shift+M");
    await problems.waitFor({ state: "visible" });
    await until("non-concurrent-index in Problems", async () =>
      (await problemTexts()).some((t) => t.includes("non-concurrent-index")),
    );
    return problemTexts();
  });

  async function goTo(line, column) {
    await page.keyboard.press("Control+1"); // focus the editor
    await quickOpen("Control+G", `${line}:${column}`);
    await page.keyboard.press("Enter");
    await quickInput.waitFor({ state: "hidden" });
  }

  if (env.MIGRATION_LSP_E2E_SCREENSHOT) {
    await step("screenshot", async () => {
      await goTo(INDEX_LINE, INDEX_COLUMN);
      for (let line = 0; line < 12; line += 1) {
        await page.keyboard.press("Control+ArrowUp"); // scroll to the top, cursor stays
      }
      await sleep(300);
      fs.mkdirSync(path.dirname(env.MIGRATION_LSP_E2E_SCREENSHOT), { recursive: true });
      await page.screenshot({ path: env.MIGRATION_LSP_E2E_SCREENSHOT });
      results.screenshot = env.MIGRATION_LSP_E2E_SCREENSHOT;
    });
  }
  results.hover = await step("hover with the guide section", async () => {
    await goTo(INDEX_LINE, INDEX_COLUMN + 3); // on `create_index`
    const hover = page.locator(".monaco-hover").filter({ hasText: "Adding an Index" });
    for (let attempt = 0; attempt < 5; attempt += 1) {
      await page.keyboard.press("Control+K");
      await page.keyboard.press("Control+I");
      try {
        await hover.first().waitFor({ state: "visible", timeout: 4000 });
        break;
      } catch {
        await page.keyboard.press("Escape");
      }
    }
    await hover.first().waitFor({ state: "visible", timeout: 2000 });
    return plain(await hover.first().innerText());
  });

  await page.keyboard.press("Escape");

  const migrationFile = path.join(workspace, MIGRATION);
  results.quick_fix = await step("quick fix through Ctrl+.", async () => {
    await goTo(INDEX_LINE, INDEX_COLUMN);
    await page.keyboard.press("Control+.");
    const rows = page.locator(".action-widget .monaco-list-row");
    await rows.first().waitFor({ timeout: 20_000 });
    const titles = (await rows.allInnerTexts()).map((t) => plain(t).trim());
    const fix = rows.filter({ hasText: "concurrently" }).first();
    await fix.click();
    await rows.first().waitFor({ state: "hidden" });
    return { titles };
  });

  // before saving: VS Code pulls diagnostics again on change (diagnosticPullOptions); a save
  // would also make the server's file watcher refresh them
  results.after_fix = await step("the diagnostic is gone", async () => {
    await until(
      "non-concurrent-index gone from Problems",
      async () => !(await problemTexts()).some((t) => t.includes("non-concurrent-index")),
      20_000,
    );
    return problemTexts();
  });

  results.quick_fix.text = await step("save the fixed file", async () => {
    await page.keyboard.press("Control+S");
    return until(
      "the fix saved to disk",
      () => {
        const content = fs.readFileSync(migrationFile, "utf8");
        return content.includes("postgresql_concurrently=True") ? content : false;
      },
      20_000,
    );
  });

  results.snippet = await step("snippet through completion", async () => {
    await page.keyboard.press("Control+1");
    await page.keyboard.press("Control+End");
    await page.keyboard.type("    mig-index", { delay: 40 });
    const suggest = page.locator(".editor-widget.suggest-widget");
    const row = suggest.locator(".monaco-list-row", { hasText: "mig-index-concurrently" });
    try {
      await row.first().waitFor({ state: "visible", timeout: 5000 });
    } catch {
      await page.keyboard.press("Control+Space");
      await row.first().waitFor({ state: "visible", timeout: 15_000 });
    }
    const labels = (await suggest.locator(".monaco-list-row").allInnerTexts()).map((t) =>
      plain(t).trim(),
    );
    const focused = plain(await suggest.locator(".monaco-list-row.focused").first().innerText());
    if (focused.includes("mig-index-concurrently")) {
      await page.keyboard.press("Enter");
    } else {
      await row.first().click();
    }
    await suggest.waitFor({ state: "hidden" });
    // fill the first two placeholders, as a user would, then leave snippet mode
    await page.keyboard.type("ix_invoices_currency");
    await page.keyboard.press("Tab");
    await page.keyboard.type("invoices");
    await page.keyboard.press("Escape");
    await page.keyboard.press("Control+S");
    const text = await until(
      "the snippet saved to disk",
      () => {
        const content = fs.readFileSync(migrationFile, "utf8");
        return content.includes("ix_invoices_currency") ? content : false;
      },
      20_000,
    );
    return { labels, text };
  });

  results.graph = await step("Show Migration Graph", async () => {
    await quickOpen("F1", "migration-lsp: Show Migration Graph");
    await page
      .locator(".quick-input-list .monaco-list-row", { hasText: "Show Migration Graph" })
      .first()
      .waitFor();
    await page.keyboard.press("Enter");
    const tab = page.locator(".tabs-container .tab.active", { hasText: "migrations.txt" });
    await tab.waitFor({ timeout: 30_000 });
    const lines = page.locator(".editor-instance .monaco-editor .view-lines").first();
    return until(
      "the graph text",
      async () => {
        const text = plain(await lines.innerText());
        return text.includes("(head)") ? text : false;
      },
      30_000,
    );
  });

  results.check = await step("Check Workspace", async () => {
    await quickOpen("F1", "migration-lsp: Check Workspace");
    await page
      .locator(".quick-input-list .monaco-list-row", { hasText: "Check Workspace" })
      .first()
      .waitFor();
    await page.keyboard.press("Enter");
    const done = page.locator(".notifications-toasts .notification-toast", {
      hasText: "problem(s) in",
    });
    await done.first().waitFor({ timeout: 60_000 });
    const message = plain(await done.first().innerText());
    // the Problems list only renders the rows in view: filter it down to one closed file
    const filter = page
      .locator(".panel")
      .getByPlaceholder(/^Filter/)
      .first();
    await filter.fill("V2__add_account_limits");
    await until("V2__add_account_limits.sql in Problems", async () =>
      (await problemTexts()).some((t) => t.includes("V2__add_account_limits.sql")),
    );
    return { message, problems: await problemTexts() };
  });
}

const watchdog = setTimeout(() => {
  results.error = `the run took longer than ${budget} ms`;
  save();
  cleanup().finally(() => process.exit(3));
}, budget);

async function cleanup() {
  try {
    await browser?.close();
  } catch {
    // the browser is gone already
  }
  if (codeServer?.pid !== undefined) {
    const group = -codeServer.pid;
    const signal = (name) => {
      try {
        process.kill(group, name);
        return true;
      } catch {
        return false; // the group is gone
      }
    };
    if (signal("SIGTERM")) {
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline && signal(0)) {
        await sleep(100);
      }
      signal("SIGKILL");
    }
  }
}

try {
  await main();
} catch (error) {
  results.error = error instanceof Error ? error.message : String(error);
} finally {
  clearTimeout(watchdog);
  await cleanup();
  save();
  console.log(
    JSON.stringify({ error: results.error ?? null, steps: results.steps, out: outFile }, null, 2),
  );
  process.exit(results.error ? 1 : 0);
}
