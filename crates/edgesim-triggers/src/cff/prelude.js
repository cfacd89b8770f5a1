// edgesim's CloudFront Functions environment, evaluated once per function before its code.
// What CloudFront's runtimes give a function and nothing more: console.log, the crypto and
// querystring modules, Buffer (runtime 2.0), the njs byte-string methods (runtime 1.0), the
// `cloudfront` module (runtime 2.0: KeyValueStore and origin modification); no timers, network,
// file system or dynamic code. Date is the function's start time for the whole run and
// Math.random is seeded per run, so every run is a function of the event alone.
//
// The host API (`run`, `finish`, `setWrapper`) lives in the global `__edgesim_cff`, each entry
// point guarded by a secret only the host knows.
(function (global, hostHash, kvsGet, kvsExists, kvsMeta, hasKvs, runtime2) {
  'use strict';
  const parse = JSON.parse;
  const stringify = JSON.stringify;
  const fromCharCode = String.fromCharCode;
  const RealDate = Date;
  const RealPromise = Promise;
  const isArray = Array.isArray;
  const keysOf = Object.keys;

  // ---- no dynamic code, no timers ---------------------------------------------------------
  const noDynamic = function () { throw new EvalError('dynamic code evaluation is not supported by CloudFront Functions'); };
  global.eval = noDynamic;
  for (const proto of [Function.prototype, Object.getPrototypeOf(async function () {})]) {
    Object.defineProperty(proto, 'constructor', { value: noDynamic, writable: false, configurable: false });
  }
  global.Function = noDynamic;
  for (const name of ['setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'queueMicrotask', 'fetch', 'XMLHttpRequest']) {
    delete global[name];
  }

  // ---- the function's start time ----------------------------------------------------------
  let nowMs = 0;
  function FnDate(...args) {
    if (!new.target) return new RealDate(nowMs).toString();
    return Reflect.construct(RealDate, args.length ? args : [nowMs], new.target);
  }
  FnDate.prototype = RealDate.prototype;
  FnDate.now = () => nowMs;
  FnDate.UTC = RealDate.UTC;
  FnDate.parse = RealDate.parse;
  Object.defineProperty(RealDate.prototype, 'constructor', { value: FnDate, writable: true, configurable: true });
  global.Date = FnDate;

  // ---- seeded Math.random (small fast counter generator) ----------------------------------
  let ra = 0, rb = 0, rc = 0, rd = 1;
  function next32() {
    const t = (((ra + rb) | 0) + rd) | 0;
    rd = (rd + 1) | 0;
    ra = rb ^ (rb >>> 9);
    rb = (rc + (rc << 3)) | 0;
    rc = (rc << 21) | (rc >>> 11);
    rc = (rc + t) | 0;
    return t >>> 0;
  }
  function seed(hi, lo) {
    ra = hi | 0; rb = lo | 0; rc = (hi ^ 0x9e3779b9) | 0; rd = 1;
    for (let i = 0; i < 12; i++) next32();
  }
  Math.random = function random() { return (next32() * 2097152 + (next32() >>> 11)) / 9007199254740992; };

  // ---- console ----------------------------------------------------------------------------
  // CloudFront truncates a run's logs at 10 KB.
  const LOG_MAX_CHARS = 10 * 1024;
  let logs = [];
  let logChars = 0;
  let logTruncated = false;
  function show(v) {
    if (typeof v === 'string') return v;
    if (v instanceof Error) return v.name + ': ' + v.message;
    if (typeof v === 'object' && v !== null) { try { return stringify(v); } catch (e) { return String(v); } }
    return String(v);
  }
  function log(...args) {
    if (logTruncated) return;
    let line = args.map(show).join(' ');
    if (logChars + line.length > LOG_MAX_CHARS) { line = line.slice(0, LOG_MAX_CHARS - logChars); logTruncated = true; }
    logChars += line.length;
    logs.push(line);
  }
  global.console = Object.freeze({ log, info: log, warn: log, error: log, debug: log });

  // ---- bytes ------------------------------------------------------------------------------
  function utf8Bytes(s) {
    const out = [];
    for (let i = 0; i < s.length; i++) {
      let c = s.charCodeAt(i);
      if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d < 0xe000) { c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00); i++; }
      }
      if (c < 0x80) out.push(c);
      else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
      else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    }
    return out;
  }
  // null when `bytes` is not valid UTF-8.
  function utf8Text(bytes) {
    let out = '';
    for (let i = 0; i < bytes.length;) {
      const b = bytes[i];
      let c, n;
      if (b < 0x80) { c = b; n = 1; } else if (b >= 0xc2 && b < 0xe0) { c = b & 31; n = 2; } else if (b >= 0xe0 && b < 0xf0) { c = b & 15; n = 3; } else if (b >= 0xf0 && b < 0xf5) { c = b & 7; n = 4; } else return null;
      if (i + n > bytes.length) return null;
      for (let k = 1; k < n; k++) { const x = bytes[i + k]; if ((x & 0xc0) !== 0x80) return null; c = (c << 6) | (x & 63); }
      out += String.fromCodePoint(c);
      i += n;
    }
    return out;
  }
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  function base64(bytes, url) {
    let out = '';
    for (let i = 0; i < bytes.length; i += 3) {
      const n = (bytes[i] << 16) | ((bytes[i + 1] || 0) << 8) | (bytes[i + 2] || 0);
      out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
      out += i + 1 < bytes.length ? B64[(n >> 6) & 63] : (url ? '' : '=');
      out += i + 2 < bytes.length ? B64[n & 63] : (url ? '' : '=');
    }
    return url ? out.replace(/\+/g, '-').replace(/\//g, '_') : out;
  }
  function unbase64(s) {
    const out = [];
    let acc = 0, bits = 0;
    for (const ch of String(s).replace(/-/g, '+').replace(/_/g, '/')) {
      const v = B64.indexOf(ch);
      if (v < 0) continue;
      acc = (acc << 6) | v; bits += 6;
      if (bits >= 8) { bits -= 8; out.push((acc >> bits) & 255); }
    }
    return out;
  }
  function hexBytes(s) {
    const out = [];
    for (let i = 0; i + 1 < s.length; i += 2) { const v = parseInt(s.substr(i, 2), 16); if (isNaN(v)) break; out.push(v); }
    return out;
  }
  function hexOf(bytes) { let out = ''; for (const b of bytes) out += (b < 16 ? '0' : '') + b.toString(16); return out; }
  function byteString(bytes) { let out = ''; for (const b of bytes) out += fromCharCode(b); return out; }
  function bytesOfByteString(s) { const out = []; for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i) & 255); return out; }

  // ---- Buffer (runtime 2.0) ---------------------------------------------------------------
  function decodeString(s, encoding) {
    switch ((encoding || 'utf8').toLowerCase()) {
      case 'utf8': case 'utf-8': return utf8Bytes(s);
      case 'hex': return hexBytes(s);
      case 'base64': case 'base64url': return unbase64(s);
      case 'latin1': case 'binary': return bytesOfByteString(s);
      default: throw new TypeError('Unknown encoding: ' + encoding);
    }
  }
  class Buffer extends Uint8Array {
    static from(value, encoding) {
      if (typeof value === 'string') return bufferOf(decodeString(value, encoding));
      if (value instanceof ArrayBuffer) return new Buffer(value);
      if (value && typeof value.length === 'number') return bufferOf(Array.from(value, (x) => x & 255));
      throw new TypeError('The first argument must be a string, Buffer, ArrayBuffer or Array');
    }
    static alloc(n, fill) { const b = new Buffer(n); if (typeof fill === 'number') b.fill(fill); return b; }
    static isBuffer(b) { return b instanceof Buffer; }
    static byteLength(s, encoding) { return typeof s === 'string' ? decodeString(s, encoding).length : s.length; }
    static concat(list) { const out = []; for (const b of list) for (const x of b) out.push(x); return bufferOf(out); }
    toString(encoding, start, end) {
      const bytes = Array.prototype.slice.call(this, start || 0, end === undefined ? this.length : end);
      switch ((encoding || 'utf8').toLowerCase()) {
        case 'utf8': case 'utf-8': { const t = utf8Text(bytes); return t === null ? byteString(bytes) : t; }
        case 'hex': return hexOf(bytes);
        case 'base64': return base64(bytes, false);
        case 'base64url': return base64(bytes, true);
        case 'latin1': case 'binary': return byteString(bytes);
        default: throw new TypeError('Unknown encoding: ' + encoding);
      }
    }
    equals(other) { if (other.length !== this.length) return false; for (let i = 0; i < this.length; i++) if (this[i] !== other[i]) return false; return true; }
    toJSON() { return { type: 'Buffer', data: Array.from(this) }; }
  }
  function bufferOf(bytes) { const b = new Buffer(bytes.length); for (let i = 0; i < bytes.length; i++) b[i] = bytes[i]; return b; }
  if (runtime2) global.Buffer = Buffer;

  // ---- njs byte strings (runtime 1.0) -----------------------------------------------------
  if (!runtime2) {
    const def = (obj, name, fn) => Object.defineProperty(obj, name, { value: fn, writable: true, configurable: true });
    def(String, 'bytesFrom', function bytesFrom(value, encoding) {
      if (typeof value === 'string') {
        const e = (encoding || '').toLowerCase();
        if (e !== 'hex' && e !== 'base64' && e !== 'base64url') throw new TypeError('Unknown encoding: ' + encoding);
        return byteString(decodeString(value, e));
      }
      return byteString(Array.from(value, (x) => x & 255));
    });
    def(String.prototype, 'fromBytes', function fromBytes(start, end) { return String(this).slice(start, end); });
    def(String.prototype, 'fromUTF8', function fromUTF8(start, end) { return utf8Text(bytesOfByteString(String(this).slice(start, end))); });
    def(String.prototype, 'toBytes', function toBytes(start, end) {
      const s = String(this).slice(start, end);
      for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 255) return null;
      return s;
    });
    def(String.prototype, 'toUTF8', function toUTF8(start, end) { return byteString(utf8Bytes(String(this).slice(start, end))); });
  }

  // ---- crypto -----------------------------------------------------------------------------
  const ALGORITHMS = ['md5', 'sha1', 'sha256'];
  function binaryOf(data) {
    if (typeof data === 'string') return byteString(utf8Bytes(data));
    if (data && typeof data.length === 'number') return byteString(Array.from(data, (x) => x & 255));
    throw new TypeError('data must be a string or a Buffer');
  }
  function hasher(algorithm, key) {
    const name = String(algorithm).toLowerCase();
    if (ALGORITHMS.indexOf(name) < 0) throw new Error('Digest method not supported: ' + algorithm);
    let data = '';
    let done = false;
    const keyBytes = key === undefined ? undefined : binaryOf(key);
    return {
      update(chunk) { if (done) throw new Error('Digest already called'); data += binaryOf(chunk); return this; },
      digest(encoding) {
        if (done) throw new Error('Digest already called');
        done = true;
        const bytes = hexBytes(hostHash(name, keyBytes, data));
        switch (encoding) {
          case 'hex': return hexOf(bytes);
          case 'base64': return base64(bytes, false);
          case 'base64url': return base64(bytes, true);
          case undefined: return runtime2 ? bufferOf(bytes) : byteString(bytes);
          default: throw new TypeError('Unknown digest encoding: ' + encoding);
        }
      },
    };
  }
  const crypto = Object.freeze({
    createHash: (algorithm) => hasher(algorithm, undefined),
    createHmac: (algorithm, key) => hasher(algorithm, key),
  });

  // ---- querystring ------------------------------------------------------------------------
  function qsUnescape(s) { try { return decodeURIComponent(String(s).replace(/\+/g, ' ')); } catch (e) { return String(s); } }
  function qsParse(text, sep, eq, options) {
    sep = sep || '&'; eq = eq || '=';
    const decode = (options && options.decodeURIComponent) || qsUnescape;
    const max = options && typeof options.maxKeys === 'number' ? options.maxKeys : 1000;
    const out = {};
    if (typeof text !== 'string' || text.length === 0) return out;
    let parts = text.split(sep);
    if (max > 0) parts = parts.slice(0, max);
    for (const part of parts) {
      if (part === '') continue;
      const at = part.indexOf(eq);
      const k = decode(at < 0 ? part : part.slice(0, at));
      const v = at < 0 ? '' : decode(part.slice(at + eq.length));
      if (Object.prototype.hasOwnProperty.call(out, k)) { if (isArray(out[k])) out[k].push(v); else out[k] = [out[k], v]; } else out[k] = v;
    }
    return out;
  }
  function qsStringify(obj, sep, eq, options) {
    sep = sep || '&'; eq = eq || '=';
    const encode = (options && options.encodeURIComponent) || encodeURIComponent;
    const parts = [];
    const str = (v) => (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : '');
    for (const k of keysOf(obj || {})) {
      const v = obj[k];
      if (isArray(v)) for (const x of v) parts.push(encode(k) + eq + encode(str(x)));
      else parts.push(encode(k) + eq + encode(str(v)));
    }
    return parts.join(sep);
  }
  const querystring = Object.freeze({
    parse: qsParse, decode: qsParse, stringify: qsStringify, encode: qsStringify,
    escape: (s) => encodeURIComponent(s), unescape: qsUnescape,
  });

  // ---- the cloudfront module (runtime 2.0) ------------------------------------------------
  let eventType = '';
  let originChange = null;
  let kvsHandle = null;
  function viewerRequestOnly(method) {
    if (eventType !== 'viewer-request') throw new Error('cf.' + method + '() can only be called in a viewer-request function, not ' + eventType);
  }
  function plain(value, what) {
    if (value === null || typeof value !== 'object' || isArray(value)) throw new TypeError(what + ' must be an object');
    return parse(stringify(value));
  }
  const cloudfront = Object.freeze({
    kvs(id) {
      if (!hasKvs) throw new Error('no key value store is associated with this function' + (id === undefined ? '' : ' (asked for ' + id + ')'));
      if (kvsHandle) return kvsHandle;
      kvsHandle = Object.freeze({
        get(key, options) {
          const format = (options && options.format) || 'string';
          return new RealPromise((resolve, reject) => {
            const value = kvsGet(String(key));
            if (value === undefined) { reject(new Error('Key ' + key + ' not found in the key value store')); return; }
            if (format === 'string') resolve(value);
            else if (format === 'json') resolve(parse(value));
            else if (format === 'bytes') resolve(Buffer.from(value, 'utf8'));
            else reject(new TypeError('unknown format ' + format + ': expected string, json or bytes'));
          });
        },
        exists(key) { return RealPromise.resolve(kvsExists(String(key))); },
        meta() { return RealPromise.resolve(parse(kvsMeta())); },
      });
      return kvsHandle;
    },
    updateRequestOrigin(params) {
      viewerRequestOnly('updateRequestOrigin');
      originChange = { kind: 'update', params: plain(params, 'updateRequestOrigin params') };
    },
    selectRequestOriginById(id) {
      viewerRequestOnly('selectRequestOriginById');
      if (typeof id !== 'string' || id === '') throw new TypeError('selectRequestOriginById takes an origin id (string)');
      originChange = { kind: 'select', id };
    },
    createRequestOriginGroup(params) {
      viewerRequestOnly('createRequestOriginGroup');
      const p = plain(params, 'createRequestOriginGroup params');
      if (!isArray(p.originIds) || p.originIds.length !== 2) throw new TypeError('createRequestOriginGroup: originIds must list two origin ids');
      originChange = { kind: 'group', params: p };
    },
  });

  const modules = runtime2 ? { crypto, querystring, buffer: { Buffer }, cloudfront } : { crypto, querystring };
  function require(name) {
    if (Object.prototype.hasOwnProperty.call(modules, name)) return modules[name];
    throw new Error('Cannot find module \'' + name + '\' (CloudFront Functions ' + (runtime2 ? '2.0' : '1.0') + ' offers ' + keysOf(modules).join(', ') + ')');
  }

  // ---- the host API -----------------------------------------------------------------------
  // Reachable from function code as a global (the host finds it there), so every entry point
  // asks for the host's secret, handed over once by `seal` before any function code runs.
  let secret;
  function guard(k) {
    if (secret === undefined || k !== secret) throw new TypeError('edgesim internals are not for function code');
  }
  let wrapper = null;
  function describe(e) {
    if (e instanceof Error) return e.name + ': ' + e.message;
    try { return 'thrown ' + stringify(e); } catch (x) { return 'thrown ' + String(e); }
  }
  const api = Object.freeze({
    require,
    cloudfront: runtime2 ? cloudfront : undefined,
    seal(k) { if (secret !== undefined) guard(undefined); secret = k; },
    setWrapper(k, fn) { guard(k); wrapper = fn; },
    run(k, eventJson, now, hi, lo, type) {
      guard(k);
      nowMs = now; seed(hi, lo); eventType = type; originChange = null;
      logs = []; logChars = 0; logTruncated = false;
      const state = { done: false, failed: false, thenable: false, value: undefined };
      try {
        // The top-level code runs again for every request: nothing in its scope survives.
        const handler = wrapper(require, runtime2 ? cloudfront : undefined);
        if (typeof handler !== 'function') throw new ReferenceError('handler is not defined');
        const result = handler(parse(eventJson));
        if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
          state.thenable = true;
          result.then((v) => { state.done = true; state.value = v; }, (e) => { state.done = true; state.failed = true; state.value = describe(e); });
        } else {
          state.done = true; state.value = result;
        }
      } catch (e) {
        state.done = true; state.failed = true; state.value = describe(e);
      }
      return state;
    },
    finish(k, state) {
      guard(k);
      let result = null, error = null, failed = state.failed;
      if (failed) error = String(state.value);
      else if (state.value === undefined) result = null;
      else {
        try { result = stringify(state.value); } catch (e) { failed = true; error = 'the result cannot be serialized: ' + describe(e); }
      }
      return stringify({ done: state.done, failed, thenable: state.thenable, error, result, logs, logTruncated, origin: originChange });
    },
  });
  Object.defineProperty(global, '__edgesim_cff', { value: api, writable: false, enumerable: false, configurable: false });
})
