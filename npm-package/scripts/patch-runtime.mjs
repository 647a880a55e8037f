// Turns TeaVM's Wasm GC runtime (needle-runtime.js, copied from TeaVM 0.16) into runtime.js for the
// package: every function the runtime builds from a string with `new Function` is replaced by a
// plain closure doing the same thing. Cloudflare Workers (and pages with a strict Content Security
// Policy) forbid code generation from strings; the generated functions are all trivial (forward
// arguments, call a method, construct, build an array), except createFunctionN, which compiles the
// body of a Java @JSBody method: the engine's only bodies are "return <parameter>;", which the
// replacement handles; any other body fails with a clear error.
//
// Each replaced piece is found by its exact opening line and cut at its matching closing brace; a
// TeaVM update that changes them makes this script fail instead of shipping a half-patched file.

/** Index just past the brace that closes the first "{" at or after `from`. */
function blockEnd(src, from) {
  let depth = 0;
  let i = src.indexOf("{", from);
  if (i < 0) throw new Error("patch-runtime: no block after offset " + from);
  const templates = []; // brace depth at which each open template literal's ${ started
  for (; i < src.length; i++) {
    const c = src[i];
    if (c === '"' || c === "'") {
      for (i++; src[i] !== c; i++) if (src[i] === "\\") i++;
    } else if (c === "`") {
      i = templateEnd(src, i + 1, templates, depth);
      if (i < 0) { depth++; continue; } // stopped at "${": continue inside the expression
    } else if (c === "/" && src[i + 1] === "/") {
      i = src.indexOf("\n", i);
    } else if (c === "/" && src[i + 1] === "*") {
      i = src.indexOf("*/", i) + 1;
    } else if (c === "{") {
      depth++;
    } else if (c === "}") {
      depth--;
      if (templates.length > 0 && templates[templates.length - 1] === depth) {
        templates.pop();
        const j = templateEnd(src, i + 1, templates, depth);
        if (j < 0) { depth++; continue; }
        i = j;
      } else if (depth === 0) {
        return i + 1;
      }
    }
  }
  throw new Error("patch-runtime: unbalanced braces");

  // Scans a template literal from `at` (just inside it); returns the index of its closing backtick,
  // or -1 after recording an opened "${" (the caller then goes on scanning code).
  function templateEnd(s, at, stack, d) {
    for (let k = at; k < s.length; k++) {
      if (s[k] === "\\") { k++; continue; }
      if (s[k] === "`") return k;
      if (s[k] === "$" && s[k + 1] === "{") { stack.push(d); i = k + 1; return -1; }
    }
    throw new Error("patch-runtime: unterminated template literal");
  }
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
  // patched (needle-java-wasm): a global path looked up, not evaluated with new Function
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
  // patched (needle-java-wasm): a global path assigned, not evaluated with new Function
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
    // patched (needle-java-wasm): a closure named with defineProperty instead of new Function
    const f = function(marker, javaObject) {
      return c.call(this, marker, javaObject);
    };
    Object.defineProperty(f, "name", { value: name });
    return f;
  }`;

const DEFINE_METHOD = `defineMethod(cls, name, fn, vararg) {
      // patched (needle-java-wasm): a closure instead of new Function
      const arity = fn.length - 1;
      cls.prototype[name] = function(...args) {
        try {
          return fn(this, ...collectArguments(args, arity, vararg));
        } catch (e) {
          rethrowJavaAsJs(e);
        }
      };
    }`;

const FUNCTION_TABLES = `// patched (needle-java-wasm): closures instead of functions compiled with new Function
  function bodyFunction(params, body) {
    // TeaVM compiles a Java @JSBody method from its parameter names and body text; without code
    // generation from strings only bodies returning one parameter are possible (the engine's only kind)
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
  const left = /new Function|\beval\s*\(|[^.\w]Function\s*\(/.exec(src);
  if (left !== null) {
    const line = src.slice(0, left.index).split("\n").length;
    throw new Error("patch-runtime: code generation from strings left at line " + line + ": " + left[0]);
  }
  return "// TeaVM 0.16 Wasm GC runtime (Apache License 2.0), patched by needle-java-wasm's\n"
      + "// scripts/patch-runtime.mjs: no code generation from strings.\n" + src;
}
