// node --import ./wasm-hooks-register.mjs: installs wasm-hooks.mjs.
import { register } from "node:module";

register("./wasm-hooks.mjs", import.meta.url);
