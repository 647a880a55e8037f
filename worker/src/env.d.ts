// The Worker's environment (Wrangler "vars", secrets and bindings; README.md lists them), for the
// type check of the sources (tsconfig.json). Not bundled: only types.

interface Env {
  WEIGHTS_URL?: string;
  VOCAB_URL?: string;
  /** The sha256 the weights must have (64 hex digits), whatever the hub announces. */
  WEIGHTS_SHA256?: string;
  /** The sha256 the vocabulary must have. */
  VOCAB_SHA256?: string;
  MODEL_CACHE_SECONDS?: string | number;
  MAX_NEW_TOKENS?: string | number;
  MAX_BODY_BYTES?: string | number;
  MAX_CALLS?: string | number;
  BACKEND_TIMEOUT_MS?: string | number;
  MAX_BACKEND_RESPONSE_BYTES?: string | number;
  LOAD_RETRY_SECONDS?: string | number;
  /** The catalogue as a JSON object (or its text), replacing src/catalogue.json. */
  CATALOGUE?: string | object;
  /** When set, /route and /dispatch want "Authorization: Bearer API_TOKEN". */
  API_TOKEN?: string;
  /** The R2 bucket of WEIGHTS_URL / VOCAB_URL = "r2:KEY". */
  MODEL_BUCKET?: R2Bucket;
  /** Service bindings named by backends ("service"), secrets named by ${NAME} in their headers. */
  [binding: string]: any;
}
