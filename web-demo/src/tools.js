// The tool list of the demo: the presets, and the check a tool list passes before it is run.
//
// The check is the engine's (normalizeTools of needle-java-wasm, the same Java code that reads the
// tools for a run): the engine itself runs any JSON (it feeds unusual tools to the model as they
// are), and the page refuses what the engine reports as a problem, so that a typo gets a clear
// message instead of a silent "[]". Three forms are accepted, also mixed in one list:
//   flat Needle form  {"name", "description", "parameters": {"arg": {"type", "description", "required"}}}
//   JSON Schema       {"name", "description", "parameters": {"type": "object", "properties": {…}, "required": […]}}
//   OpenAI form       {"type": "function", "function": {"name", "description", "parameters": <JSON Schema>}}
import { normalizeTools } from "./needle-java-wasm/index.js";

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

/** How the status line names the engine's forms. */
const FORM_LABELS = { flat: "flat Needle", "json-schema": "JSON Schema", openai: "OpenAI" };

/**
 * Checks a tool list text (after the package's init()). Returns {ok: true, tools (the engine's
 * normalized tools: name, original, description…), forms (a summary such as "JSON Schema form"),
 * descriptions (what the retrieval panel ranks: each tool's description, else its name)} or
 * {ok: false, message}: the engine's first problem.
 */
export function checkTools(text) {
  if (text.trim() === "") {
    return { ok: false, message: "The tool list is empty: write a JSON array of tools ([] for none)" };
  }
  const report = normalizeTools(text);
  if (report.problems.length > 0) {
    const message = report.problems[0].message;
    return { ok: false, message: message.charAt(0).toUpperCase() + message.slice(1) };
  }
  const forms = [...new Set(report.tools.map((t) => FORM_LABELS[t.form]))];
  return {
    ok: true,
    tools: report.tools,
    forms: forms.length === 0 ? "" : forms.length === 1 ? forms[0] + " form" : "mixed forms (" + forms.join(", ") + ")",
    descriptions: report.tools.map((t) => (t.description !== null && t.description.trim() !== "" ? t.description : t.original)),
  };
}
