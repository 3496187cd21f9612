// Which command starts the server, in every case the extension can meet.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";

import {
  LaunchFacts,
  PROBE_ARGS,
  chooseLaunch,
  cliCommand,
  describe as describePlan,
  expandPath,
  installCommand,
  isInside,
  moduleArgs,
} from "../src/launch";

const WORKSPACE = "/home/ana/shop";
const VENV_PYTHON = `${WORKSPACE}/.venv/bin/python`;
const VENV_SERVER = `${WORKSPACE}/.venv/bin/migration-lsp`;
const USER_PYTHON = "/home/ana/.pyenv/versions/3.12.1/bin/python";
const USER_SERVER = "/home/ana/.local/bin/migration-lsp";
const SYSTEM_SERVER = "/usr/local/bin/migration-lsp";

function facts(
  overrides: Partial<LaunchFacts> = {},
  files: string[] = [],
  pythons: string[] = [],
): LaunchFacts {
  return {
    serverPath: [],
    interpreter: [],
    trusted: true,
    workspaceFolders: [WORKSPACE],
    isFile: (file) => files.includes(file),
    hasServer: (python) => pythons.includes(python),
    platform: "linux",
    ...overrides,
  };
}

function command(plan: ReturnType<typeof chooseLaunch>): string[] {
  assert.equal(plan.kind, "run", describePlan(plan));
  return plan.kind === "run" ? [plan.command, ...plan.args] : [];
}

describe("trusted workspace", () => {
  test("server.path wins over every interpreter and PATH", () => {
    const plan = chooseLaunch(
      facts(
        {
          serverPath: [{ value: USER_SERVER, origin: "user" }],
          interpreter: [{ value: USER_PYTHON, origin: "user" }],
          pythonExtension: VENV_PYTHON,
          onPath: SYSTEM_SERVER,
        },
        [USER_SERVER],
        [USER_PYTHON, VENV_PYTHON],
      ),
    );
    assert.deepEqual(command(plan), [USER_SERVER, "serve"]);
    assert.equal(plan.kind === "run" && plan.python, undefined);
  });

  test("a workspace server.path inside the workspace runs when trusted", () => {
    const plan = chooseLaunch(
      facts({ serverPath: [{ value: VENV_SERVER, origin: "workspace" }] }, [VENV_SERVER]),
    );
    assert.deepEqual(command(plan), [VENV_SERVER, "serve"]);
  });

  test("a server.path that does not exist is reported and the next option is used", () => {
    const plan = chooseLaunch(
      facts({
        serverPath: [{ value: "/nope/migration-lsp", origin: "user" }],
        onPath: SYSTEM_SERVER,
      }),
    );
    assert.deepEqual(command(plan), [SYSTEM_SERVER, "serve"]);
    assert.deepEqual(
      plan.skipped.map((s) => [s.value, s.reason]),
      [["/nope/migration-lsp", "migrationLsp.server.path: no such file"]],
    );
  });

  test("the interpreter setting runs the module and wins over the Python extension", () => {
    const plan = chooseLaunch(
      facts(
        {
          interpreter: [{ value: USER_PYTHON, origin: "user" }],
          pythonExtension: VENV_PYTHON,
          onPath: SYSTEM_SERVER,
        },
        [],
        [USER_PYTHON, VENV_PYTHON],
      ),
    );
    assert.deepEqual(command(plan), [USER_PYTHON, "-P", "-m", "migration_lsp", "serve"]);
    assert.equal(plan.kind === "run" && plan.python, USER_PYTHON);
    assert.equal(plan.kind === "run" && plan.origin, "user");
  });

  test("the Python extension's interpreter is used when no interpreter is set", () => {
    const plan = chooseLaunch(
      facts({ pythonExtension: VENV_PYTHON, onPath: SYSTEM_SERVER }, [], [VENV_PYTHON]),
    );
    assert.deepEqual(command(plan), [VENV_PYTHON, "-P", "-m", "migration_lsp", "serve"]);
    assert.equal(plan.kind === "run" && plan.origin, "python-extension");
  });

  test("an interpreter without the package falls through to the next one, then PATH", () => {
    const plan = chooseLaunch(
      facts(
        { interpreter: [{ value: USER_PYTHON, origin: "user" }], pythonExtension: VENV_PYTHON },
        [],
        [VENV_PYTHON],
      ),
    );
    assert.deepEqual(command(plan), [VENV_PYTHON, "-P", "-m", "migration_lsp", "serve"]);
    const onPath = chooseLaunch(
      facts({ pythonExtension: VENV_PYTHON, onPath: SYSTEM_SERVER }, [], []),
    );
    assert.deepEqual(command(onPath), [SYSTEM_SERVER, "serve"]);
  });

  test("without the Python extension or settings, migration-lsp on PATH runs", () => {
    assert.deepEqual(command(chooseLaunch(facts({ onPath: SYSTEM_SERVER }))), [
      SYSTEM_SERVER,
      "serve",
    ]);
  });

  test("nothing found: missing, to be installed into the interpreter the user chose", () => {
    const plan = chooseLaunch(
      facts({
        interpreter: [{ value: USER_PYTHON, origin: "user" }],
        pythonExtension: VENV_PYTHON,
      }),
    );
    assert.equal(plan.kind, "missing");
    assert.equal(plan.kind === "missing" && plan.installInto, USER_PYTHON);
    const fromExtension = chooseLaunch(facts({ pythonExtension: VENV_PYTHON }));
    assert.equal(fromExtension.kind === "missing" && fromExtension.installInto, VENV_PYTHON);
    const nothing = chooseLaunch(facts());
    assert.equal(nothing.kind, "missing");
    assert.equal(nothing.kind === "missing" && nothing.installInto, undefined);
  });

  test("a folder setting wins over the user setting", () => {
    const plan = chooseLaunch(
      facts(
        {
          interpreter: [
            { value: VENV_PYTHON, origin: "workspace" },
            { value: USER_PYTHON, origin: "user" },
          ],
        },
        [],
        [VENV_PYTHON, USER_PYTHON],
      ),
    );
    assert.deepEqual(command(plan), [VENV_PYTHON, "-P", "-m", "migration_lsp", "serve"]);
  });
});

describe("Restricted Mode (untrusted workspace)", () => {
  const untrusted = (
    overrides: Partial<LaunchFacts>,
    files: string[] = [],
    pythons: string[] = [],
  ) => chooseLaunch(facts({ trusted: false, ...overrides }, files, pythons));

  test("never runs a server.path from workspace settings, even outside the workspace", () => {
    const plan = untrusted(
      { serverPath: [{ value: "/tmp/evil", origin: "workspace" }], onPath: SYSTEM_SERVER },
      ["/tmp/evil"],
    );
    assert.deepEqual(command(plan), [SYSTEM_SERVER, "serve"]);
    assert.match(plan.skipped[0]?.reason ?? "", /workspace settings/);
  });

  test("the user's own server.path stands in for a refused workspace value", () => {
    const plan = untrusted(
      {
        serverPath: [
          { value: VENV_SERVER, origin: "workspace" },
          { value: USER_SERVER, origin: "user" },
        ],
      },
      [VENV_SERVER, USER_SERVER],
    );
    assert.deepEqual(command(plan), [USER_SERVER, "serve"]);
  });

  test("never runs a user-set program that lives inside the workspace", () => {
    const plan = untrusted(
      { serverPath: [{ value: VENV_SERVER, origin: "user" }], onPath: SYSTEM_SERVER },
      [VENV_SERVER],
    );
    assert.deepEqual(command(plan), [SYSTEM_SERVER, "serve"]);
    assert.match(plan.skipped[0]?.reason ?? "", /inside the workspace/);
  });

  test("never runs the Python extension's interpreter from the workspace's .venv", () => {
    const plan = untrusted({ pythonExtension: VENV_PYTHON }, [], [VENV_PYTHON]);
    assert.equal(plan.kind, "missing");
    assert.equal(plan.kind === "missing" && plan.installInto, undefined);
    assert.deepEqual(
      plan.skipped.map((s) => s.origin),
      ["python-extension"],
    );
  });

  test("never runs a workspace interpreter setting; a user interpreter outside runs", () => {
    const refused = untrusted(
      { interpreter: [{ value: "/usr/bin/python3", origin: "workspace" }] },
      [],
      ["/usr/bin/python3"],
    );
    assert.equal(refused.kind, "missing");
    const allowed = untrusted(
      {
        interpreter: [
          { value: "/usr/bin/python3", origin: "workspace" },
          { value: USER_PYTHON, origin: "user" },
        ],
      },
      [],
      [USER_PYTHON],
    );
    assert.deepEqual(command(allowed), [USER_PYTHON, "-P", "-m", "migration_lsp", "serve"]);
  });

  test("a migration-lsp on PATH inside the workspace is not run either", () => {
    const plan = untrusted({ onPath: VENV_SERVER });
    assert.equal(plan.kind, "missing");
  });

  test("a folder whose name starts like the workspace's is outside it", () => {
    const plan = untrusted(
      { pythonExtension: "/home/ana/shop-tools/bin/python" },
      [],
      ["/home/ana/shop-tools/bin/python"],
    );
    assert.deepEqual(command(plan), [
      "/home/ana/shop-tools/bin/python",
      "-P",
      "-m",
      "migration_lsp",
      "serve",
    ]);
  });
});

describe("helpers", () => {
  test("isInside", () => {
    assert.equal(isInside("/a/b/c", ["/a/b"], "linux"), true);
    assert.equal(isInside("/a/b", ["/a/b"], "linux"), true);
    assert.equal(isInside("/a/bc", ["/a/b"], "linux"), false);
    assert.equal(isInside("/a/b/../c", ["/a/b"], "linux"), false);
    assert.equal(isInside("C:\\Work\\Shop\\.venv\\python.exe", ["c:\\work\\shop"], "win32"), true);
  });

  test("the CLI runs the way the server runs", () => {
    const module = chooseLaunch(facts({ pythonExtension: USER_PYTHON }, [], [USER_PYTHON]));
    assert.equal(module.kind, "run");
    if (module.kind === "run") {
      assert.deepEqual(cliCommand(module, ["graph", "."]), {
        command: USER_PYTHON,
        args: ["-P", "-m", "migration_lsp", "graph", "."],
      });
    }
    const binary = chooseLaunch(facts({ onPath: SYSTEM_SERVER }));
    if (binary.kind === "run") {
      assert.deepEqual(cliCommand(binary, ["check", "."]), {
        command: SYSTEM_SERVER,
        args: ["check", "."],
      });
    }
  });

  test("the install command quotes the interpreter for the shell", () => {
    assert.equal(
      installCommand("/home/o'neil/py/bin/python", "linux"),
      "'/home/o'\\''neil/py/bin/python' -P -m pip install --upgrade migration-lsp",
    );
    assert.equal(
      installCommand("C:\\Py\\python.exe", "win32"),
      '& "C:\\Py\\python.exe" -P -m pip install --upgrade migration-lsp',
    );
  });

  test("path settings: ${workspaceFolder}, ~ and relative paths", () => {
    assert.equal(
      expandPath("${workspaceFolder}/.venv/bin/python", [WORKSPACE], "/home/ana", "linux"),
      VENV_PYTHON,
    );
    assert.equal(
      expandPath("~/.local/bin/migration-lsp", [WORKSPACE], "/home/ana", "linux"),
      USER_SERVER,
    );
    assert.equal(expandPath(".venv/bin/python", [WORKSPACE], "/home/ana", "linux"), VENV_PYTHON);
    assert.equal(expandPath("python3", [WORKSPACE], "/home/ana", "linux"), "python3");
    assert.equal(expandPath("  ", [WORKSPACE], "/home/ana", "linux"), "");
  });
});

describe("a repository's own migration_lsp folder", () => {
  const python = process.env.MIGRATION_LSP_TEST_PYTHON ?? "python3";
  const version = spawnSync(python, ["-c", "import sys; print(sys.version_info >= (3, 11))"], {
    encoding: "utf-8",
  });
  const skip =
    version.stdout?.trim() === "True" ? false : `needs ${python} (3.11 or later) on PATH`;

  /** A workspace whose `migration_lsp/` package leaves a marker when it is imported. */
  function hostileWorkspace(): { folder: string; marker: string } {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), "migration-lsp-shadow-"));
    const marker = path.join(folder, "ran");
    const evil = `open(${JSON.stringify(marker)}, "w").write("ran")\n`;
    fs.mkdirSync(path.join(folder, "migration_lsp"));
    fs.writeFileSync(path.join(folder, "migration_lsp", "__init__.py"), evil);
    fs.writeFileSync(path.join(folder, "migration_lsp", "__main__.py"), evil);
    return { folder, marker };
  }

  const run = (args: string[], cwd: string) =>
    spawnSync(python, args, { cwd, encoding: "utf-8", timeout: 30_000 });

  test("is imported by plain -m (the danger is real)", { skip }, () => {
    const { folder, marker } = hostileWorkspace();
    run(["-m", "migration_lsp", "--version"], folder);
    assert.equal(fs.existsSync(marker), true);
  });

  test("is never run by the server, CLI or probe command lines", { skip }, () => {
    const { folder, marker } = hostileWorkspace();
    run(moduleArgs("migration_lsp", "--version"), folder);
    run(PROBE_ARGS, folder);
    const plan = chooseLaunch(facts({ pythonExtension: python }, [], [python]));
    assert.equal(plan.kind, "run");
    if (plan.kind === "run") {
      run(plan.args, folder);
      run(cliCommand(plan, ["--version"]).args, folder);
    }
    assert.equal(fs.existsSync(marker), false);
  });
});
