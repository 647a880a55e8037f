// Turns TeaVM's Wasm GC runtime (needle-runtime.js, copied from TeaVM 0.16) into runtime.js for the
// package: every function the runtime builds from a string with `new Function` is replaced by a
// plain closure doing the same thing. Cloudflare Workers (and pages with a strict Content Security
// Policy) forbid code generation from strings; the generated functions are all trivial (forward
// arguments, call a method, construct, build an array), except createFunctionN, which compiles the
// body of a Java @JSBody method: the engine's only bodies are "return <parameter>;" and
// "{return {};}" (a new empty object), which the replacement handles; any other body fails with a
// clear error.
//
// Each replaced piece is found by its exact opening line and cut at its matching closing brace; a
// TeaVM update that changes them makes this script fail instead of shipping a half-patched file.

/** Index just past the brace that closes the first "{" at or after `from` (strings, templates, comments skipped). */
function blockEnd(src, from) {
  const stack = []; // "{" for a code brace, "${" for an expression inside a template literal
  const template = (k) => { // from inside a template literal: index of its closing backtick or of "{" in "${"
    for (; k < src.length; k++) {
      if (src[k] === "\\") {
        k++;
      } else if (src[k] === "`") {
        return k;
      } else if (src[k] === "$" && src[k + 1] === "{") {
        stack.push("${");
        return k + 1;
      }
    }
    throw new Error("patch-runtime: unterminated template literal");
  };
  let i = src.indexOf("{", from);
  if (i < 0) throw new Error("patch-runtime: no block after offset " + from);
  for (; i < src.length; i++) {
    const c = src[i];
    if (c === '"' || c === "'") {
      for (i++; src[i] !== c; i++) if (src[i] === "\\") i++;
    } else if (c === "`") {
      i = template(i + 1);
    } else if (c === "/" && src[i + 1] === "/") {
      i = src.indexOf("\n", i);
    } else if (c === "/" && src[i + 1] === "*") {
      i = src.indexOf("*/", i) + 1;
    } else if (c === "{") {
      stack.push("{");
    } else if (c === "}") {
      if (stack.pop() === "${") {
        i = template(i + 1);
      } else if (stack.length === 0) {
        return i + 1;
      }
    }
  }
  throw new Error("patch-runtime: unbalanced braces");
}

/** Replaces the block opening with `head` (which must occur exactly once) by `replacement`. */
function replaceBlock(src, head, replacement, blockHead = head) {
  const at = src.indexOf(head);
  if (at < 0 || src.indexOf(head, at + 1) >= 0) {
    throw new Error("patch-runtime: expected exactly one occurrence of: " + head);
  }
  const blockAt = src.indexOf(blockHead, at);
  const end = blockEnd(src, blockAt + blockHead.length - 1);
  return src.slice(0, at) + replacement + src.slice(end);
}

const GET_GLOBAL = `function getGlobalName(name) {
  // patched (needle-java-wasm): a global path looked up, not compiled from a string
  let value = globalThis;
  for (const part of name.split(".")) {
    if (value === globalThis && !(part in globalThis)) {
      throw new ReferenceError(name + " is not defined");
    }
    value = value[part];
  }
  return value;
}`;

const SET_GLOBAL = `function setGlobalName(name, value) {
  // patched (needle-java-wasm): a global path assigned, not compiled from a string
  const parts = name.split(".");
  let target = globalThis;
  for (let i = 0; i < parts.length - 1; i++) {
    target = target[parts[i]];
  }
  target[parts[parts.length - 1]] = value;
}`;

const DEFINE_FUNCTION = `function collectArguments(args, arity, vararg) {
    // patched (needle-java-wasm): the fixed parameters of a generated function, the rest as one array
    const fixed = vararg ? arity - 1 : arity;
    const result = new Array(arity);
    for (let i = 0; i < fixed; ++i) {
      result[i] = args[i];
    }
    if (vararg) {
      result[arity - 1] = Array.prototype.slice.call(args, fixed);
    }
    return result;
  }
  function defineFunction(fn, vararg) {
    const arity = fn.length;
    return function(...args) {
      try {
        return fn(...collectArguments(args, arity, vararg));
      } catch (e) {
        rethrowJavaAsJs(e);
      }
    };
  }`;

const RENAME_CONSTRUCTOR = `function renameConstructor(name, c) {
    // patched (needle-java-wasm): a closure named with defineProperty, not compiled from a string
    const f = function(marker, javaObject) {
      return c.call(this, marker, javaObject);
    };
    Object.defineProperty(f, "name", { value: name });
    return f;
  }`;

const DEFINE_METHOD = `defineMethod(cls, name, fn, vararg) {
      // patched (needle-java-wasm): a closure, not compiled from a string
      const arity = fn.length - 1;
      cls.prototype[name] = function(...args) {
        try {
          return fn(this, ...collectArguments(args, arity, vararg));
        } catch (e) {
          rethrowJavaAsJs(e);
        }
      };
    }`;

const FUNCTION_TABLES = `// patched (needle-java-wasm): closures instead of functions compiled from strings
  function bodyFunction(params, body) {
    // TeaVM compiles a Java @JSBody method from its parameter names and body text; without code
    // generation from strings only the engine's kinds of body are possible: returning one
    // parameter, or a new empty object (JSObjects.create, used by direct NIO buffers)
    if (/^\\s*\\{?\\s*return\\s*\\{\\s*\\}\\s*;?\\s*\\}?\\s*$/.test(body)) {
      return () => ({});
    }
    const match = /^\\s*return\\s+([A-Za-z_$][\\w$]*)\\s*;?\\s*$/.exec(body);
    const index = match === null ? -1 : params.indexOf(match[1]);
    if (index < 0) {
      throw new Error("needle-java-wasm: cannot run the JavaScript body '" + body
          + "' without code generation from strings");
    }
    return (...args) => args[index];
  }
  for (let i = 0; i < 32; ++i) {
    const arity = i;
    imports.teavmJso["createFunction" + i] = (...paramsAndBody) =>
        bodyFunction(paramsAndBody.slice(0, arity), paramsAndBody[arity]);
    imports.teavmJso["bindFunction" + i] = (f, ...bindArgs) => f.bind(null, ...bindArgs);
    imports.teavmJso["callFunction" + i] = (fn, ...args) => {
      try {
        return fn(...args.slice(0, arity));
      } catch (e) {
        rethrowJsAsJava(e);
      }
    };
    imports.teavmJso["callMethod" + i] = (instance, method, ...args) => {
      try {
        const actual = args.slice(0, arity);
        return instance !== null ? instance[method](...actual) : getGlobalName(method)(...actual);
      } catch (e) {
        rethrowJsAsJava(e);
      }
    };
    imports.teavmJso["construct" + i] = (constructor, ...args) => {
      try {
        return new constructor(...args.slice(0, arity));
      } catch (e) {
        rethrowJsAsJava(e);
      }
    };
    imports.teavmJso["arrayOf" + i] = (...args) => args.slice(0, arity);
  }`;

/** The patched runtime source; throws when the input is not the runtime this was written for. */
export function patchRuntime(source) {
  let src = source;
  src = replaceBlock(src, "function getGlobalName(name) {", GET_GLOBAL);
  src = replaceBlock(src, "function setGlobalName(name, value) {", SET_GLOBAL);
  src = replaceBlock(src, "function defineFunction(fn, vararg) {", DEFINE_FUNCTION);
  src = replaceBlock(src, "function renameConstructor(name, c) {", RENAME_CONSTRUCTOR);
  src = replaceBlock(src, "defineMethod(cls, name, fn, vararg) {", DEFINE_METHOD);
  src = replaceBlock(src, "const argumentList = [];", FUNCTION_TABLES, "for (let i = 0; i < 32; ++i) {");
  // TeaVM's own loader (load(), unused: instantiate.js loads the module) reads files with a
  // dynamic import("node:fs/promises"), which makes Workers bundlers warn; it is cut off here
  src = replaceBlock(src, "async function importNodeFs() {", `async function importNodeFs() {
  throw new Error("needle-java-wasm: TeaVM's file loader is not used; call init() instead");
}`);
  const left = /new Function|\beval\s*\(|[^.\w]Function\s*\(/.exec(src);
  if (left !== null) {
    const line = src.slice(0, left.index).split("\n").length;
    throw new Error("patch-runtime: code generation from strings left at line " + line + ": " + left[0]);
  }
  if (!/\nvar JavaError = class extends Error \{/.test(src)) {
    throw new Error("patch-runtime: class JavaError not found");
  }
  src += "export { JavaError };\n";
  return "// TeaVM 0.16 Wasm GC runtime (Apache License 2.0), patched by needle-java-wasm's\n"
      + "// scripts/patch-runtime.mjs: no code generation from strings.\n" + src;
}
