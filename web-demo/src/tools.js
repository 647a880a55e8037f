// The tool list of the demo: the presets, and the check a tool list passes before it is run.
//
// The engine itself accepts any JSON (it feeds unusual tools to the model as they are); the page
// is stricter so that a typo gets a clear message instead of a silent "[]". Three forms are
// accepted, also mixed in one list:
//   flat Needle form  {"name", "description", "parameters": {"arg": {"type", "description", "required"}}}
//   JSON Schema       {"name", "description", "parameters": {"type": "object", "properties": {…}, "required": […]}}
//   OpenAI form       {"type": "function", "function": {"name", "description", "parameters": <JSON Schema>}}

/** A JSON Schema object with string properties; `required` lists the required ones. */
function schema(properties, required = []) {
  const props = {};
  for (const [name, description, type = "string"] of properties) {
    props[name] = { type, description };
  }
  return { type: "object", properties: props, required };
}

/** The presets: a tool list and example queries. The first query is filled in when one is picked. */
export const PRESETS = [
  {
    id: "weather",
    label: "Weather",
    queries: ["What's the weather in Paris?", "Will it rain in Tokyo tomorrow? Answer in fahrenheit."],
    tools: [
      {
        name: "get_weather",
        description: "Get the current weather for a city",
        parameters: schema([["location", "City name"], ["unit", "celsius or fahrenheit"]], ["location"]),
      },
      {
        name: "get_forecast",
        description: "Get the weather forecast for the next days",
        parameters: schema([["location", "City name"], ["days", "Number of days", "integer"]], ["location"]),
      },
    ],
  },
  {
    id: "flights",
    label: "Flights",
    queries: ["Book a flight from London to New York tomorrow", "Find flights to Berlin on Friday"],
    tools: [
      {
        name: "book_flight",
        description: "Book a flight",
        parameters: schema([["origin", "Departure city"], ["destination", "Arrival city"], ["date", "Day of travel"]],
          ["origin", "destination"]),
      },
      {
        name: "search_flights",
        description: "Search flights to a destination",
        parameters: schema([["destination", "Arrival city"], ["date", "Day of travel"]], ["destination"]),
      },
    ],
  },
  {
    id: "lights",
    label: "Lights",
    queries: ["Turn off the lights in the kitchen", "Dim the bedroom lights to 30 percent"],
    // the OpenAI form
    tools: [
      {
        type: "function",
        function: {
          name: "set_lights",
          description: "Turn the lights of a room on or off",
          parameters: schema([["room", "Room name"], ["state", "on or off"]], ["room", "state"]),
        },
      },
      {
        type: "function",
        function: {
          name: "set_brightness",
          description: "Set the brightness of the lights of a room",
          parameters: schema([["room", "Room name"], ["level", "Brightness in percent", "integer"]], ["room", "level"]),
        },
      },
    ],
  },
  {
    id: "messages",
    label: "Messages",
    queries: ["Text Alice that I'll be late", "Read my messages from Bob"],
    // the flat Needle form
    tools: [
      {
        name: "send_message",
        description: "Send a text message to a contact",
        parameters: {
          recipient: { type: "string", description: "Name of the contact", required: true },
          body: { type: "string", description: "The message text", required: true },
        },
      },
      {
        name: "read_messages",
        description: "Read the latest messages from a contact",
        parameters: {
          contact: { type: "string", description: "Name of the contact", required: true },
        },
      },
    ],
  },
  {
    id: "routing",
    label: "Multi-tool routing (needle-rs)",
    queries: ["What's the weather in Paris?", "Play Yesterday"],
    // the multi-tool routing example of needle-rs's model card, as it is there (no descriptions)
    tools: [
      { name: "get_weather", parameters: { type: "object", properties: { location: { type: "string" } } } },
      { name: "play_music", parameters: { type: "object", properties: { song: { type: "string" } } } },
      {
        name: "send_message",
        parameters: { type: "object", properties: { recipient: { type: "string" }, body: { type: "string" } } },
      },
    ],
  },
];

/** The preset with this id, or undefined. */
export function preset(id) {
  return PRESETS.find((p) => p.id === id);
}

/** The text a preset's tools show in the editor. */
export function presetText(p) {
  return JSON.stringify(p.tools, null, 2);
}

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

function typeName(v) {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return "a string";
  return "a " + typeof v;
}

/** The model sees tool names in snake_case (the engine renames and restores them). */
function snakeCase(name) {
  return name
    .replace(/[^A-Za-z0-9_]+/g, "_")
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .replace(/_+/g, "_")
    .toLowerCase()
    .replace(/^_+|_+$/g, "");
}

/** "line L column C" for a character offset of text. */
function lineColumn(text, offset) {
  let line = 1;
  let column = 1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === "\n") {
      line++;
      column = 1;
    } else {
      column++;
    }
  }
  return "line " + line + " column " + column;
}

/**
 * Where and why a text is not JSON (browsers' JSON.parse messages differ and often give no
 * position): a small JSON reader that stops at the first error. Returns "what at line L column C".
 */
function jsonSyntaxError(text) {
  let i = 0;
  const at = (what) => {
    throw new SyntaxError(what + " at " + lineColumn(text, i));
  };
  const shown = () => (i >= text.length ? "the end of the text" : JSON.stringify(text[i]));
  const space = () => {
    while (i < text.length && " \t\n\r".includes(text[i])) i++;
  };
  const string = () => {
    i++; // the opening quote
    while (i < text.length && text[i] !== '"') {
      if (text[i] === "\\") {
        i++;
        if (text[i] === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) at("a \\u escape needs four hex digits");
          i += 5;
          continue;
        }
        if (!'"\\/bfnrt'.includes(text[i] ?? "x")) at("unknown escape \\" + (text[i] ?? ""));
      } else if (text.charCodeAt(i) < 0x20) {
        at(text[i] === "\n" ? "a line break inside a string (missing closing quote?)" : "a control character inside a string");
      }
      i++;
    }
    if (i >= text.length) at("a string is not closed (missing \")");
    i++;
  };
  const number = () => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i));
    if (!m || m[0] === "" || m[0] === "-") at("a malformed number");
    i += m[0].length;
  };
  const value = () => {
    space();
    const c = text[i];
    if (c === "{") {
      i++;
      space();
      if (text[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        space();
        if (text[i] !== '"') at(text[i] === "}" ? "a comma before }" : "expected a property name in double quotes, found " + shown());
        string();
        space();
        if (text[i] !== ":") at("expected : after the property name, found " + shown());
        i++;
        value();
        space();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return;
        }
        at("expected , or } in an object, found " + shown());
      }
    } else if (c === "[") {
      i++;
      space();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (;;) {
        space();
        if (text[i] === "]") at("a comma before ]");
        value();
        space();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return;
        }
        at("expected , or ] in an array, found " + shown());
      }
    } else if (c === '"') {
      string();
    } else if (c === "-" || (c >= "0" && c <= "9")) {
      number();
    } else {
      for (const word of ["true", "false", "null"]) {
        if (text.startsWith(word, i)) {
          i += word.length;
          return;
        }
      }
      at(i >= text.length ? "the text ends where a value should be" : "unexpected " + shown()
        + (c === "'" ? " (JSON strings use double quotes)" : ""));
    }
  };
  try {
    value();
    space();
    if (i < text.length) at("unexpected " + shown() + " after the end of the JSON value");
  } catch (e) {
    if (e instanceof SyntaxError) return e.message;
    throw e;
  }
  return null;
}

/** Why JSON.parse refused the text: our reader's message, else the browser's. */
function jsonError(text, e) {
  return jsonSyntaxError(text) ?? String(e.message);
}

class ToolError extends Error {}

function fail(message) {
  throw new ToolError(message);
}

/** Checks one JSON Schema `parameters` object; `where` names the tool in messages. */
function checkSchema(params, where) {
  if (params.type !== "object") {
    fail(where + ": JSON Schema parameters need \"type\": \"object\", got "
      + (params.type === undefined ? "no \"type\"" : JSON.stringify(params.type)));
  }
  if (params.properties === undefined) {
    return;
  }
  if (!isObject(params.properties)) {
    fail(where + ": \"properties\" must be an object of parameters, got " + typeName(params.properties));
  }
  for (const [key, p] of Object.entries(params.properties)) {
    if (!isObject(p)) {
      fail(where + ": parameter \"" + key + "\" must be an object such as {\"type\": \"string\"}, got " + typeName(p));
    }
    if (p.type !== undefined && typeof p.type !== "string" && !Array.isArray(p.type)) {
      fail(where + ": the \"type\" of parameter \"" + key + "\" must be a string such as \"string\"");
    }
  }
  if (params.required !== undefined) {
    if (!Array.isArray(params.required)) {
      fail(where + ": \"required\" must be an array of parameter names, got " + typeName(params.required));
    }
    for (const r of params.required) {
      if (typeof r !== "string" || !(params.properties && Object.hasOwn(params.properties, r))) {
        fail(where + ": \"required\" lists " + JSON.stringify(r) + ", which is not one of its \"properties\"");
      }
    }
  }
}

/** Checks flat Needle-form parameters: {"arg": {"type", "description", "required"}}. */
function checkFlat(params, where) {
  for (const [key, p] of Object.entries(params)) {
    if (!isObject(p)) {
      fail(where + ": parameter \"" + key + "\" must be an object such as {\"type\": \"string\", \"required\": true}, got "
        + typeName(p));
    }
    if (p.type !== undefined && typeof p.type !== "string") {
      fail(where + ": the \"type\" of parameter \"" + key + "\" must be a string such as \"string\"");
    }
    if (p.required !== undefined && typeof p.required !== "boolean") {
      fail(where + ": \"required\" of parameter \"" + key + "\" must be true or false, got " + JSON.stringify(p.required));
    }
  }
}

/**
 * Checks a tool list text. Returns {ok: true, tools (the definitions, unwrapped from the OpenAI
 * form), forms (a summary such as "JSON Schema form"), descriptions (what the retrieval panel
 * ranks: each tool's description, else its name)} or {ok: false, message}.
 */
export function checkTools(text) {
  if (text.trim() === "") {
    return { ok: false, message: "The tool list is empty: write a JSON array of tools ([] for none)" };
  }
  let root;
  try {
    root = JSON.parse(text);
  } catch (e) {
    return { ok: false, message: "The tool list is not valid JSON: " + jsonError(text, e) };
  }
  try {
    if (!Array.isArray(root)) {
      fail("The tool list must be a JSON array of tools, [ … ], got " + typeName(root)
        + (isObject(root) ? " (put a single tool in [ ])" : ""));
    }
    const tools = [];
    const forms = new Set();
    const seen = new Map();
    root.forEach((element, i) => {
      const n = i + 1;
      if (!isObject(element)) {
        fail("Tool " + n + " must be an object with a \"name\", got " + typeName(element));
      }
      let tool = element;
      let form;
      if (element.type !== undefined || element.function !== undefined) {
        if (element.type !== "function" || !isObject(element.function)) {
          fail("Tool " + n + " looks like the OpenAI form, which is {\"type\": \"function\", \"function\": {\"name\", …}}");
        }
        tool = element.function;
        form = "OpenAI";
      }
      if (typeof tool.name !== "string" || tool.name.trim() === "") {
        fail("Tool " + n + " needs a \"name\" (a non-empty string)");
      }
      const where = "Tool \"" + tool.name + "\"";
      const snake = snakeCase(tool.name);
      if (snake === "") {
        fail(where + ": the name needs at least one ASCII letter or digit");
      }
      if (seen.has(snake)) {
        fail("Tools " + seen.get(snake) + " and " + n + " have the same name (" + snake + " as the model sees it)");
      }
      seen.set(snake, n);
      if (tool.description !== undefined && typeof tool.description !== "string") {
        fail(where + ": \"description\" must be a string");
      }
      const params = tool.parameters;
      if (params !== undefined) {
        if (!isObject(params)) {
          fail(where + ": \"parameters\" must be an object, got " + typeName(params));
        }
        // a flat parameter may be called "type": then its value is an object, not a JSON Schema type
        if (typeof params.type === "string" || form === "OpenAI") {
          checkSchema(params, where);
          form ??= "JSON Schema";
        } else {
          checkFlat(params, where);
          form ??= "flat Needle";
        }
      }
      forms.add(form ?? "flat Needle");
      tools.push(tool);
    });
    const summary = forms.size === 0 ? "" : forms.size === 1 ? [...forms][0] + " form" : "mixed forms ("
      + [...forms].join(", ") + ")";
    return {
      ok: true,
      tools,
      forms: summary,
      descriptions: tools.map((t) => (typeof t.description === "string" && t.description.trim() !== "" ? t.description : t.name)),
    };
  } catch (e) {
    if (e instanceof ToolError) {
      return { ok: false, message: e.message };
    }
    throw e;
  }
}
