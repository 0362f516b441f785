// Minimal types for fengari (a Lua 5.3 VM in JavaScript), as used by argocd-health.test.ts.
declare module "fengari" {
  type LuaState = object;
  type LuaString = Uint8Array;
  type LuaCFunction = (L: LuaState) => number;
  export function to_luastring(s: string): LuaString;
  export function to_jsstring(s: LuaString): string;
  export const lua: {
    LUA_OK: number;
    LUA_MULTRET: number;
    LUA_TNIL: number;
    LUA_TTABLE: number;
    lua_createtable(L: LuaState, narr: number, nrec: number): void;
    lua_getfield(L: LuaState, idx: number, k: LuaString): number;
    lua_gettop(L: LuaState): number;
    lua_pcall(L: LuaState, nargs: number, nresults: number, msgh: number): number;
    lua_pop(L: LuaState, n: number): void;
    lua_pushboolean(L: LuaState, b: boolean): void;
    lua_pushnil(L: LuaState): void;
    lua_pushinteger(L: LuaState, n: number): void;
    lua_pushnumber(L: LuaState, n: number): void;
    lua_pushstring(L: LuaState, s: LuaString): void;
    lua_rawseti(L: LuaState, idx: number, n: number): void;
    lua_setfield(L: LuaState, idx: number, k: LuaString): void;
    lua_setglobal(L: LuaState, name: LuaString): void;
    lua_tojsstring(L: LuaState, idx: number): string;
    lua_type(L: LuaState, idx: number): number;
  };
  export const lauxlib: {
    luaL_newstate(): LuaState;
    luaL_loadstring(L: LuaState, s: LuaString): number;
    luaL_requiref(L: LuaState, modname: LuaString, openf: LuaCFunction, glb: number): void;
  };
  export const lualib: {
    luaopen_base: LuaCFunction;
    luaopen_package: LuaCFunction;
    luaopen_table: LuaCFunction;
  };
}
