// The status item's text and tooltip, the settings sent to the server, and the positions of
// `migration-lsp check` results in the Problems panel.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { parseFindings, problemsByFile, utf16Column } from "../src/findings";
import { Project, statusText, statusTooltip } from "../src/projects";
import { serverSettings } from "../src/settings";

const alembic: Project = {
  tool: "alembic",
  flavor: "flask-migrate",
  root: "/ws/billing-api",
  folder: "/ws",
  dialect: "postgresql",
  dialectSource: "alembic.ini",
  migrations: ["/ws/billing-api/migrations/versions"],
};
const flyway: Project = {
  tool: "flyway",
  flavor: null,
  root: "/ws/ledger",
  folder: "/ws",
  dialect: "postgresql",
  dialectSource: null,
  migrations: ["/ws/ledger/db/migration"],
};
const rails: Project = {
  tool: "rails",
  root: "/other/app",
  folder: "/other",
  dialect: null,
  migrations: [],
};

describe("status item", () => {
  test("tools and dialects, each once", () => {
    assert.equal(statusText([alembic, flyway]), "alembic, flyway · postgresql");
    assert.equal(statusText([rails]), "rails");
    assert.equal(statusText([]), "no migrations found");
    const many = ["a", "b", "c", "d", "e"].map((tool) => ({ ...rails, tool }));
    assert.equal(statusText(many), "a, b, c, +2");
  });

  test("the tooltip lists the projects per workspace folder", () => {
    const tooltip = statusTooltip([alembic, flyway, rails]);
    assert.equal(
      tooltip,
      [
        "**ws**",
        "",
        "- alembic (flask-migrate) in `billing-api` — postgresql (from alembic.ini)",
        "- flyway in `ledger` — postgresql",
        "",
        "**other**",
        "",
        "- rails in `app` — dialect unknown",
      ].join("\n"),
    );
  });
});

describe("settings sent to the server", () => {
  test("only the server's options, only those set", () => {
    const raw = {
      server: { path: "/x/migration-lsp" },
      interpreter: "/usr/bin/python3",
      trace: { server: "verbose" },
      select: null,
      extendSelect: [],
      ignore: ["update-with-limit"],
      severity: {},
      dialect: null,
      guide: "",
      checkDowngrade: false,
      maxFileSize: null,
      postgresVersion: 16,
      defaultBranch: null,
    };
    assert.deepEqual(serverSettings(raw), {
      ignore: ["update-with-limit"],
      checkDowngrade: false,
      postgresVersion: 16,
    });
  });

  test("an explicit empty select is kept (it means: no rule)", () => {
    assert.deepEqual(serverSettings({ select: [] }), { select: [] });
    assert.equal(serverSettings(null), null);
  });
});

describe("check results", () => {
  test("code-point columns become UTF-16 columns", () => {
    assert.equal(utf16Column("abc", 2), 2);
    assert.equal(utf16Column("🙂 x", 2), 3);
    assert.equal(utf16Column("é🙂🙂x", 3), 5);
    assert.equal(utf16Column("ab", 5), 5);
  });

  test("findings grouped per file with 0-based positions", () => {
    const output = JSON.stringify([
      {
        path: "ledger/V2__x.sql",
        rule: "non-concurrent-index",
        severity: "warning",
        message: "Creating index…",
        start: { line: 2, column: 4 },
        end: { line: 2, column: 10 },
        url: "https://example.invalid/rules/non-concurrent-index/",
      },
      {
        path: "/abs/other.py",
        rule: "missing-downgrade",
        severity: "info",
        message: "No downgrade",
        start: { line: 1, column: 1 },
        end: { line: 1, column: 1 },
        url: null,
      },
    ]);
    const lines = (file: string) =>
      file === "/ws/ledger/V2__x.sql" ? ["-- 🙂", "/*🙂*/ CREATE INDEX"] : undefined;
    const grouped = problemsByFile(parseFindings(output), "/ws", lines);
    assert.deepEqual([...grouped.keys()], ["/ws/ledger/V2__x.sql", "/abs/other.py"]);
    const [sql] = grouped.get("/ws/ledger/V2__x.sql") ?? [];
    assert.deepEqual(
      [sql?.start, sql?.end],
      [
        { line: 1, character: 4 },
        { line: 1, character: 10 },
      ],
    );
    assert.equal(sql?.url, "https://example.invalid/rules/non-concurrent-index/");
    const [py] = grouped.get("/abs/other.py") ?? [];
    assert.deepEqual(py?.start, { line: 0, character: 0 });
    assert.equal(py?.url, undefined);
  });

  test("anything but a JSON list is an error", () => {
    assert.throws(() => parseFindings("{}"), /JSON list/);
  });
});
