// Runs an Argo CD health script the way Argo CD does, with a real Lua 5.1 interpreter (Debian's lua5.1; Argo CD
// embeds gopher-lua, which implements Lua 5.1): the object becomes the global `obj` (a Lua table: JSON objects and
// arrays are tables, arrays from index 1, null is nil and skipped in arrays), only the base and table libraries are reachable (Argo opens
// no string, math, io or debug library for a health script unless an admin sets useOpenLibs), and the script's
// return value must be a table whose status is one of Argo CD's health codes.
import { spawn } from 'node:child_process';

export const ARGO_HEALTH_CODES = ['Healthy', 'Progressing', 'Degraded', 'Suspended', 'Missing', 'Unknown'] as const;
export type ArgoHealth = { status: (typeof ARGO_HEALTH_CODES)[number]; message: string };

export const LUA = process.env['LUA'] ?? 'lua5.1';

/** A Lua string literal for any JS string: every byte outside printable ASCII is a decimal escape (Lua 5.1 has no \x). */
export function luaString(s: string): string {
  let out = '"';
  for (const byte of Buffer.from(s, 'utf8')) {
    if (byte === 0x22) out += '\\"';
    else if (byte === 0x5c) out += '\\\\';
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\${byte}`;
  }
  return `${out}"`;
}

/**
 * A Lua table constructor for a JSON value, as Argo CD's decodeValue builds it: null becomes nil, and a null inside an
 * array is skipped (decodeValue appends each item, and gopher-lua's LTable.Append ignores nil), so ipairs sees the rest.
 */
export function luaLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'string') return luaString(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`not a JSON number: ${value}`);
    return String(value);
  }
  if (Array.isArray(value)) return `{${value.filter((v) => v !== null && v !== undefined).map(luaLiteral).join(',')}}`;
  if (typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>).map(([k, v]) => `[${luaString(k)}]=${luaLiteral(v)}`).join(',')}}`;
  }
  throw new Error(`not a JSON value: ${typeof value}`);
}

/** Argo CD's environment for a health script: the base library (minus file loading) and table; no string methods. */
const RUNNER = `
local chunk = assert(loadfile(SCRIPT))
local env = { obj = OBJ }
for _, name in ipairs({ "assert", "error", "ipairs", "next", "pairs", "pcall", "rawequal", "rawget", "rawset", "select",
    "setmetatable", "getmetatable", "tonumber", "tostring", "type", "unpack", "xpcall", "table", "_VERSION" }) do
  env[name] = _G[name]
end
env._G = env
setfenv(chunk, env)
getmetatable("").__index = nil
local ok, hs = pcall(chunk)
if not ok then
  io.stderr:write("the health script failed: " .. tostring(hs))
  os.exit(3)
end
if type(hs) ~= "table" then
  io.stderr:write("the health script returned a " .. type(hs) .. ", not a table")
  os.exit(4)
end
io.write(tostring(hs.status), "\\n", tostring(hs.message or ""))
`;

/** Runs the health script at `scriptPath` on `obj` (a Kubernetes object as JSON). */
export function runHealthScript(scriptPath: string, obj: unknown, timeoutMs = 10_000): Promise<ArgoHealth> {
  const program = `local SCRIPT = ${luaString(scriptPath)}\nlocal OBJ = ${luaLiteral(obj)}\n${RUNNER}`;
  return new Promise((resolve, reject) => {
    const child = spawn(LUA, ['-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(err.code === 'ENOENT' ? new Error(`${LUA} is not installed: apt-get install -y lua5.1 (or set LUA to a Lua 5.1 interpreter)`) : err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`${LUA} exited with ${code}: ${stderr.trim()}`));
      const nl = stdout.indexOf('\n');
      const status = stdout.slice(0, nl);
      if (!(ARGO_HEALTH_CODES as readonly string[]).includes(status)) return reject(new Error(`the health script returned status ${JSON.stringify(status)}; Argo CD would show Unknown`));
      resolve({ status: status as ArgoHealth['status'], message: stdout.slice(nl + 1) });
    });
    child.stdin.end(program);
  });
}
