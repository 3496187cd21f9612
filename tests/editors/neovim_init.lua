-- Headless Neovim (0.11+) end-to-end check of migration-lsp, run by tests/editors/test_neovim.py:
--
--   nvim --headless -i NONE -u tests/editors/neovim_init.lua
--
-- Inputs come from the environment (MIGRATION_LSP_TEST_*); everything observed is written as JSON
-- to MIGRATION_LSP_TEST_OUT. The script never blocks forever: every step is wrapped in xpcall, a
-- watchdog timer writes what was seen so far and exits with an error, and the caller adds an
-- outer timeout too.

local python = assert(os.getenv('MIGRATION_LSP_TEST_PYTHON'), 'MIGRATION_LSP_TEST_PYTHON unset')
local workspace = assert(os.getenv('MIGRATION_LSP_TEST_WORKSPACE'), 'MIGRATION_LSP_TEST_WORKSPACE')
local out_path = assert(os.getenv('MIGRATION_LSP_TEST_OUT'), 'MIGRATION_LSP_TEST_OUT unset')
local budget_ms = tonumber(os.getenv('MIGRATION_LSP_TEST_BUDGET_MS') or '') or 40000
local step_ms = 10000 -- the longest any single wait may take
-- 'full': diagnostics, hover, quick fix; 'settings': diagnostics under MIGRATION_LSP_TEST_SETTINGS
local scenario = os.getenv('MIGRATION_LSP_TEST_SCENARIO') or 'full'
local settings = os.getenv('MIGRATION_LSP_TEST_SETTINGS')

local SQL = workspace .. '/db/migration/V2__index_orders.sql'
local ALEMBIC = workspace .. '/alembic/versions/b2c3d4e5f6a7_add_email.py'

-- The python ftplugin's `has('python3')` probes for a Python provider: a second or two of
-- start-up that has nothing to do with the server. Users often switch providers off too.
for _, provider in ipairs({ 'python3', 'node', 'perl', 'ruby' }) do
  vim.g['loaded_' .. provider .. '_provider'] = 0
end
vim.lsp.set_log_level('warn') -- the log ($XDG_STATE_HOME/nvim/lsp.log) is shown on failure

-- >>> configuration: the same as docs/editors/neovim.md (only `cmd` differs)
vim.lsp.config('migration_lsp', {
  cmd = { python, '-m', 'migration_lsp', 'serve' },
  filetypes = { 'python', 'sql' },
  root_markers = { 'alembic.ini', 'manage.py', 'pyproject.toml', 'flyway.conf', '.git' },
})
vim.lsp.enable('migration_lsp')
-- <<< configuration

if settings then -- as the docs show: a second vim.lsp.config call adds to the first
  vim.lsp.config('migration_lsp', { settings = vim.json.decode(settings) })
end

local started = vim.uv.hrtime()
local results = {
  scenario = scenario,
  version = vim.version and tostring(vim.version()) or nil,
  steps = {}, -- the steps that completed, in order
  notify = {}, -- vim.notify calls (errors, deprecations)
  messages = {}, -- window/showMessage (warnings are echoed, not notified)
  projects_notifications = {}, -- migrationLsp/projects
}

local function elapsed_ms()
  return math.floor((vim.uv.hrtime() - started) / 1e6)
end

local function step(name)
  table.insert(results.steps, { name = name, at_ms = elapsed_ms() })
end

-- what the server says on screen, and its custom notification
local notify = vim.notify
vim.notify = function(msg, level, opts)
  table.insert(results.notify, { message = tostring(msg), level = level })
  return notify(msg, level, opts)
end
vim.lsp.handlers['migrationLsp/projects'] = function(_, params)
  table.insert(results.projects_notifications, params)
end
local show_message = vim.lsp.handlers['window/showMessage']
vim.lsp.handlers['window/showMessage'] = function(err, params, ctx)
  table.insert(results.messages, params)
  return show_message(err, params, ctx)
end

local finished = false
local function finish(code)
  if finished then
    return
  end
  finished = true
  results.elapsed_ms = elapsed_ms()
  results.exit_code = code
  local ok, encoded = pcall(vim.fn.json_encode, results)
  if not ok then
    encoded = vim.fn.json_encode({ error = 'cannot encode results: ' .. tostring(encoded) })
    code = 1
  end
  vim.fn.writefile({ encoded }, out_path)
  if code == 0 then
    vim.cmd('qall!')
  else
    vim.cmd('cquit ' .. code)
  end
end

local function wait_for(what, condition)
  local ok = vim.wait(step_ms, condition, 50)
  if not ok then
    error('timed out waiting for ' .. what, 0)
  end
end

local function client_for(bufnr)
  return vim.lsp.get_clients({ bufnr = bufnr, name = 'migration_lsp' })[1]
end

local function diagnostics(bufnr)
  local list = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    table.insert(list, {
      code = d.code,
      lnum = d.lnum,
      col = d.col,
      end_lnum = d.end_lnum,
      end_col = d.end_col,
      severity = d.severity,
      source = d.source,
      message = d.message,
    })
  end
  table.sort(list, function(a, b)
    return a.lnum < b.lnum or (a.lnum == b.lnum and tostring(a.code) < tostring(b.code))
  end)
  return list
end

local function has_code(bufnr, code)
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    if d.code == code then
      return true
    end
  end
  return false
end

local function buffer_text(bufnr)
  return table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), '\n')
end

--- Open `path` in the current window, wait for the client and for its first diagnostics.
local function open(path)
  vim.cmd.edit(vim.fn.fnameescape(path))
  local bufnr = vim.api.nvim_get_current_buf()
  wait_for('the client to attach to ' .. path, function()
    return client_for(bufnr) ~= nil and client_for(bufnr).initialized
  end)
  wait_for('diagnostics for ' .. path, function()
    return #vim.diagnostic.get(bufnr) > 0
  end)
  return bufnr
end

--- Put the cursor on the first occurrence of `needle` (+ `offset` bytes) in the current window.
local function cursor_at(bufnr, needle, offset)
  for lnum, line in ipairs(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)) do
    local col = line:find(needle, 1, true)
    if col then
      vim.api.nvim_win_set_cursor(0, { lnum, col - 1 + (offset or 0) })
      return lnum - 1
    end
  end
  error('not found in the buffer: ' .. needle, 0)
end

local function only_result(responses, method)
  for _, response in pairs(responses or {}) do
    if response.err then
      error(method .. ' failed: ' .. vim.inspect(response.err), 0)
    end
    return response.result
  end
  return nil
end

local function describe_client(client)
  results.client = {
    name = client.name,
    root_dir = client.root_dir,
    offset_encoding = client.offset_encoding,
    pull_diagnostics = client:supports_method('textDocument/diagnostic'),
    workspace_folders = client.workspace_folders,
    settings = client.settings,
  }
end

local function run_settings()
  local alembic = open(ALEMBIC)
  describe_client(assert(client_for(alembic)))
  results.alembic = { filetype = vim.bo[alembic].filetype, diagnostics = diagnostics(alembic) }
  step('alembic diagnostics')
end

local function run_full()
  -- 1. the Flyway SQL file
  local sql = open(SQL)
  local client = assert(client_for(sql))
  describe_client(client)
  results.sql = { filetype = vim.bo[sql].filetype, diagnostics = diagnostics(sql) }
  step('sql diagnostics')

  -- 2. the Alembic migration (same client: same root)
  local alembic = open(ALEMBIC)
  wait_for('every Alembic diagnostic', function()
    return has_code(alembic, 'missing-downgrade') and has_code(alembic, 'update-with-limit')
  end)
  results.alembic = {
    filetype = vim.bo[alembic].filetype,
    diagnostics = diagnostics(alembic),
    same_client = client_for(alembic) ~= nil and client_for(alembic).id == client.id,
  }
  step('alembic diagnostics')

  -- 3. hover on `op.create_index` (what `K` asks for)
  cursor_at(alembic, 'op.create_index', 4)
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  local hover = only_result(
    vim.lsp.buf_request_sync(alembic, 'textDocument/hover', params, 5000),
    'hover'
  )
  results.hover = hover and hover.contents or vim.NIL
  step('hover')

  -- 4. the detected projects, the way the docs show them
  local shown, failure = client:request_sync(
    'workspace/executeCommand',
    { command = 'migration-lsp.showProjects', arguments = {} },
    5000,
    alembic
  )
  if not shown or shown.err then
    error('migration-lsp.showProjects failed: ' .. vim.inspect(failure or shown.err), 0)
  end
  results.show_projects = shown.result
  step('show projects')

  -- 5. the quick fix on the SQL diagnostic, in the SQL buffer's window (as a user would)
  vim.cmd.buffer(sql)
  local target
  for _, d in ipairs(vim.diagnostic.get(sql)) do
    if d.code == 'non-concurrent-index' then
      target = d
    end
  end
  assert(target, 'no non-concurrent-index diagnostic in the SQL buffer')
  local lsp_diagnostic = target.user_data and target.user_data.lsp
  assert(lsp_diagnostic, 'the diagnostic carries no LSP data')
  local actions = only_result(
    vim.lsp.buf_request_sync(sql, 'textDocument/codeAction', {
      textDocument = vim.lsp.util.make_text_document_params(sql),
      range = lsp_diagnostic.range,
      context = { diagnostics = { lsp_diagnostic }, triggerKind = 1 },
    }, 5000),
    'codeAction'
  ) or {}
  results.actions = {}
  local chosen
  for _, action in ipairs(actions) do
    table.insert(results.actions, { title = action.title, kind = action.kind })
    if not chosen and action.title:find('CONCURRENTLY', 1, true) and action.edit then
      chosen = action
    end
  end
  step('code actions')
  assert(chosen, 'no quick fix mentioning CONCURRENTLY')
  results.applied = chosen.title
  vim.lsp.util.apply_workspace_edit(chosen.edit, client.offset_encoding)
  results.fixed_text = buffer_text(sql)
  step('fix applied')

  -- 6. Neovim re-pulls diagnostics after its didChange; wait for the stale one to go away
  local refreshed = vim.wait(step_ms, function()
    return not has_code(sql, 'non-concurrent-index')
  end, 50)
  results.refreshed_without_help = refreshed
  if not refreshed then
    -- record whether an explicit pull would have cleared it (diagnoses the failure)
    local pulled = only_result(
      vim.lsp.buf_request_sync(sql, 'textDocument/diagnostic', {
        textDocument = vim.lsp.util.make_text_document_params(sql),
      }, 5000),
      'diagnostic'
    )
    results.explicit_pull = pulled or vim.NIL
  end
  results.sql_after = { diagnostics = diagnostics(sql), text = buffer_text(sql) }
  step('diagnostics after the fix')
end

local function on_error(err)
  return debug.traceback(tostring(err), 2)
end

-- the watchdog: whatever happens, Neovim ends and says why
vim.defer_fn(function()
  if not finished then
    results.error = ('watchdog: no result after %d ms'):format(budget_ms)
    finish(3)
  end
end, budget_ms)

vim.api.nvim_create_autocmd('VimEnter', {
  once = true,
  callback = function()
    vim.schedule(function()
      local ok, err = xpcall(scenario == 'settings' and run_settings or run_full, on_error)
      if not ok then
        results.error = err
        finish(1)
      else
        finish(0)
      end
    end)
  end,
})
