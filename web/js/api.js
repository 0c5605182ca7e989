// HTTP client for the box API: JSON in and out, the CSRF header on every
// state-changing request, one error type, and a hook for "not logged in".

let csrf = null;
let onUnauthenticated = () => {};

export function setCsrf(value) { csrf = value || null; }
export function hasSession() { return csrf !== null; }
export function onAuthLost(fn) { onUnauthenticated = fn; }

/** An error answered by the box ({"error":{"code","message"}}) or the network. */
export class ApiError extends Error {
  constructor(status, code, message, extra = {}) {
    super(message || code);
    this.status = status;
    this.code = code;
    Object.assign(this, extra);
  }
}

/** Encodes a slash-separated path segment by segment. */
export function encodePath(path) {
  return path.split('/').map(encodeURIComponent).join('/');
}

function headers(method, extra) {
  const h = { ...extra };
  if (method !== 'GET' && method !== 'HEAD' && csrf) h['X-CSRF-Token'] = csrf;
  return h;
}

async function toError(res) {
  let code = 'http_' + res.status;
  let message = res.statusText;
  let field = null;
  try {
    const body = await res.json();
    if (body && body.error) ({ code, message, field = null } = body.error);
  } catch { /* not JSON */ }
  const retry = Number(res.headers.get('Retry-After')) || null;
  return new ApiError(res.status, code, message, { field, retryAfter: retry });
}

/**
 * Calls the API. `opts`: method, body (JSON-encoded unless it is a Blob/File),
 * signal, quiet401 (do not treat 401 as "session lost": login forms).
 * Resolves with the parsed JSON (or null for 204).
 */
export async function api(path, opts = {}) {
  const method = opts.method || (opts.body !== undefined ? 'POST' : 'GET');
  const h = headers(method, opts.headers);
  let body = opts.body;
  if (body !== undefined && !(body instanceof Blob)) {
    h['Content-Type'] = 'application/json';
    body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, { method, headers: h, body, signal: opts.signal, credentials: 'same-origin', cache: 'no-store' });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'offline', e.message);
  }
  if (!res.ok) {
    const err = await toError(res);
    if (res.status === 401 && err.code === 'unauthenticated' && !opts.quiet401) {
      csrf = null;
      onUnauthenticated();
    }
    throw err;
  }
  if (res.status === 204) return null;
  const type = res.headers.get('Content-Type') || '';
  return type.includes('json') ? res.json() : res.blob();
}

/** Downloads a file body as a Blob. */
export async function fetchBlob(path) {
  const res = await fetch(path, { credentials: 'same-origin' }).catch((e) => {
    throw new ApiError(0, 'offline', e.message);
  });
  if (!res.ok) throw await toError(res);
  return res.blob();
}

/**
 * Uploads a Blob with PUT and reports progress (0..1). Returns
 * { promise, abort }.
 */
export function upload(path, file, onProgress) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    xhr.open('PUT', path);
    if (csrf) xhr.setRequestHeader('X-CSRF-Token', csrf);
    xhr.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* empty */ }
      if (xhr.status >= 200 && xhr.status < 300) return resolve(body);
      const e = (body && body.error) || {};
      if (xhr.status === 401) { csrf = null; onUnauthenticated(); }
      reject(new ApiError(xhr.status, e.code || 'http_' + xhr.status, e.message || xhr.statusText));
    };
    xhr.onerror = () => reject(new ApiError(0, 'offline', 'network error'));
    xhr.onabort = () => reject(new ApiError(0, 'aborted', 'aborted'));
    xhr.send(file);
  });
  return { promise, abort: () => xhr.abort() };
}
