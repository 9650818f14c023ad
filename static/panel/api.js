// The JSON API (/api/v1), with a context token from the host for every
// call: the panel uses nothing else.

function token() {
  return new Promise((resolve, reject) => {
    if (!window.AP || !AP.context || !AP.context.getToken) {
      reject(new Error("Open Seatlens from Jira's administration: it needs the Atlassian host to sign requests."));
      return;
    }
    AP.context.getToken((t, err) => (t ? resolve(t) : reject(err || new Error("The host gave no token."))));
  });
}

// ApiError carries the API's code and message.
export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

export async function api(path, options) {
  const t = await token();
  const init = Object.assign({ headers: {} }, options || {});
  init.headers = Object.assign({ Authorization: "JWT " + t, Accept: "application/json" }, init.headers);
  const r = await fetch("api/v1/" + path, init);
  if (r.status === 204) return null;
  let body = null;
  try {
    body = await r.json();
  } catch (e) {
    throw new ApiError(r.status, "bad-answer", "Seatlens answered " + r.status + " without a readable body.");
  }
  if (!r.ok) throw new ApiError(r.status, body.code || "error", body.message || "HTTP " + r.status, body);
  return body;
}

// query turns an object into a query string, leaving empty values out.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") q.set(k, v);
  }
  const s = q.toString();
  return s ? "?" + s : "";
}
