// edgesim's Node.js-like environment for Lambda@Edge handlers, evaluated once per engine.
// Deterministic by construction: Date and performance read simulated time, Math.random is
// seeded per invocation, timers advance simulated time; no network, files or process.env.
//
// Handler code must not reach or bend this machinery: `__edgesim` is frozen, and each of its
// functions refuses a caller without the host's secret (a random number handed over once by
// `seal`, before any handler code runs, and passed by the host on every call), and the
// parts that bound an invocation (timers, simulated time, console caps, the answer) use only
// intrinsics captured here, never a global or prototype method a handler could replace.
(function (global, hostHash, hostCharge, hostRegex) {
  'use strict';
  const es = {};
  Object.defineProperty(global, '__edgesim', { value: es, writable: false, enumerable: false, configurable: false });
  let secret;
  function guard(k) {
    if (secret === undefined || k !== secret) throw new TypeError('edgesim internals are not for handler code');
  }
  es.seal = (k) => { if (secret !== undefined) guard(undefined); secret = k; Object.freeze(es); };
  const uncurry = (f) => Function.prototype.call.bind(f);
  const sliceString = uncurry(String.prototype.slice);
  const toNumber = Number;
  const isFiniteNumber = Number.isFinite;

  // ---- regular expressions ---------------------------------------------------------------
  // Every regex method (test, match, replace, split, matchAll, search) runs through
  // RegExp.prototype.exec. The host weighs work done inside it as regex work; the property is
  // fixed so handler code cannot step around the weighing.
  const nativeExec = uncurry(RegExp.prototype.exec);
  Object.defineProperty(RegExp.prototype, 'exec', {
    value: function exec(string) {
      hostRegex(true);
      try { return nativeExec(this, string); } finally { hostRegex(false); }
    },
    writable: false, enumerable: false, configurable: false,
  });

  // ---- simulated clock -------------------------------------------------------------------
  let nowMs = 0;
  let virtualMs = 0;
  let timeoutMs = 0;
  const RealDate = Date;
  function SimDate(...args) {
    if (!new.target) return new RealDate(nowMs + virtualMs).toString();
    return Reflect.construct(RealDate, args.length ? args : [nowMs + virtualMs], new.target);
  }
  SimDate.prototype = RealDate.prototype;
  SimDate.now = () => nowMs + virtualMs;
  SimDate.UTC = RealDate.UTC;
  SimDate.parse = RealDate.parse;
  Object.defineProperty(RealDate.prototype, 'constructor', { value: SimDate, writable: true, configurable: true });
  global.Date = SimDate;
  global.performance = { now: () => virtualMs, timeOrigin: 0 };

  // ---- seeded random (small fast counter generator, 32-bit arithmetic) ---------------------
  let ra = 0, rb = 0, rc = 0, rd = 1, seedHi = 0, seedLo = 0, seeded = false;
  function next32() {
    const t = (((ra + rb) | 0) + rd) | 0;
    rd = (rd + 1) | 0;
    ra = rb ^ (rb >>> 9);
    rb = (rc + (rc << 3)) | 0;
    rc = (rc << 21) | (rc >>> 11);
    rc = (rc + t) | 0;
    return t >>> 0;
  }
  function ensureSeeded() {
    if (seeded) return;
    seeded = true;
    ra = seedHi | 0; rb = seedLo | 0; rc = (seedHi ^ 0x9e3779b9) | 0; rd = 1;
    for (let i = 0; i < 12; i++) next32();
  }
  Math.random = function random() {
    ensureSeeded();
    return (next32() * 2097152 + (next32() >>> 11)) / 9007199254740992;
  };

  // ---- console ---------------------------------------------------------------------------
  // Output is capped per invocation: at most LOG_MAX_LINES lines and LOG_MAX_CHARS characters
  // are kept (a line that crosses the limit is cut); the rest is counted, not stored.
  const LOG_MAX_LINES = 1000;
  const LOG_MAX_CHARS = 256 * 1024;
  let logs = [];
  let logChars = 0, logWritten = 0, logWrittenChars = 0, logDropped = 0;
  // Writing costs simulated time (the host's cost model) and that cost is charged to the
  // invocation's work budget as it is written, so a flood ends at the timeout; once over
  // budget, console calls return at once.
  let costLineUs = 5, costCharNs = 1, costUnitUs = 50, pendingUs = 0, overBudget = false;
  es.setCosts = (k, lineUs, charNs, unitUs) => { guard(k); costLineUs = lineUs; costCharNs = charNs; costUnitUs = unitUs; };
  es.logStats = (k) => { guard(k); return [logWritten, logWrittenChars, logDropped]; };
  // One line: `LEVEL<tab>text`. Counted and charged first; built only if some of it is kept.
  function emit(level, text) {
    const n = level.length + 1 + text.length;
    logWritten++;
    logWrittenChars += n;
    pendingUs += costLineUs + n * costCharNs / 1000;
    if (pendingUs >= costUnitUs) {
      const units = (pendingUs / costUnitUs) | 0;
      pendingUs -= units * costUnitUs;
      if (hostCharge(units)) overBudget = true;
    }
    if (logs.length >= LOG_MAX_LINES || logChars >= LOG_MAX_CHARS) { logDropped++; return; }
    const room = LOG_MAX_CHARS - logChars;
    let line;
    if (n > room) {
      line = level + '\t' + sliceString(text, 0, room > n - text.length ? room - (n - text.length) : 0);
      logDropped++;
    } else {
      line = level + '\t' + text;
    }
    logChars += line.length;
    logs[logs.length] = line;
  }
  function show(v, depth) {
    if (typeof v === 'string') return depth ? JSON.stringify(v) : v;
    if (v instanceof Error) return v.stack ? v.name + ': ' + v.message + '\n' + v.stack.trimEnd() : String(v);
    if (typeof v === 'function') return '[Function: ' + (v.name || 'anonymous') + ']';
    if (typeof v === 'bigint') return v + 'n';
    if (v === undefined || v === null || typeof v !== 'object') return String(v);
    try { return JSON.stringify(v); } catch (e) { return Object.prototype.toString.call(v); }
  }
  function format(args) {
    let first = args[0];
    // As Node's util.format: a lone string is printed as it is (no % directives).
    if (args.length === 1 && typeof first === 'string') return first;
    let rest = 1;
    let out;
    if (typeof first === 'string' && first.indexOf('%') >= 0) {
      out = first.replace(/%[sdifjoO%]/g, (m) => {
        if (m === '%%') return '%';
        if (rest >= args.length) return m;
        const a = args[rest++];
        switch (m) {
          case '%s': return typeof a === 'string' ? a : show(a, 1);
          case '%d': case '%i': return String(m === '%i' ? Math.trunc(Number(a)) : Number(a));
          case '%f': return String(Number(a));
          default: return show(a, 1);
        }
      });
    } else {
      out = args.length ? show(first, 0) : '';
    }
    for (; rest < args.length; rest++) out += ' ' + show(args[rest], 0);
    return out;
  }
  function writer(level) { return function (...args) { if (!overBudget) emit(level, format(args)); }; }
  global.console = {
    log: writer('INFO'), info: writer('INFO'), warn: writer('WARN'), error: writer('ERROR'),
    debug: writer('DEBUG'), trace: writer('TRACE'),
    dir: (v) => { if (!overBudget) emit('INFO', show(v, 1)); },
  };

  // ---- work inside built-ins ---------------------------------------------------------------
  // The interpreter counts a call of a built-in as one tick whatever the size of its input, so
  // a loop over `bigString.indexOf(x)` would do unbounded work per counted tick. The built-ins
  // whose work grows with the size of what they scan or build are charged by that size (one
  // budget unit per SCAN_PER_UNIT elements). Once the budget is spent they return at once
  // without doing the work: the invocation is a timeout by then and nothing they return is used.
  const SCAN_PER_UNIT = 1024;
  const apply = Reflect.apply;
  const defineProperty = Object.defineProperty;
  function affordable(n) {
    if (overBudget) return false;
    if (n >= SCAN_PER_UNIT && hostCharge((n / SCAN_PER_UNIT) | 0)) overBudget = true;
    return !overBudget;
  }
  const lengthOf = (x) => (x !== null && x !== undefined && typeof x.length === 'number' ? x.length : 0);
  // `size` null: the receiver's length; 'arg': plus the first argument's when it is a string;
  // else a function of (receiver, arguments). The common cases stay one call deep.
  function meter(target, names, size) {
    if (!target) return;
    for (const name of names) {
      const native = target[name];
      if (typeof native !== 'function') continue;
      let wrapped;
      if (size === 'fixed') {
        // At most three arguments, each of which may be passed as undefined (no `arguments`).
        const callNative = uncurry(native);
        wrapped = { [name](a, b, c) {
          const n = this === null || this === undefined ? 0 : this.length;
          if ((n >= SCAN_PER_UNIT || overBudget) && !affordable(n)) return undefined;
          return callNative(this, a, b, c);
        } }[name];
      } else if (size === null) {
        wrapped = { [name]() {
          const n = this === null || this === undefined ? 0 : this.length;
          if ((n >= SCAN_PER_UNIT || overBudget) && !affordable(n)) return undefined;
          return apply(native, this, arguments);
        } }[name];
      } else if (size === 'arg') {
        wrapped = { [name](a) {
          const n = (this === null || this === undefined ? 0 : this.length) + (typeof a === 'string' ? a.length : 0);
          if ((n >= SCAN_PER_UNIT || overBudget) && !affordable(n)) return undefined;
          return apply(native, this, arguments);
        } }[name];
      } else {
        wrapped = { [name]() {
          const n = size(this, arguments);
          if ((n >= SCAN_PER_UNIT || overBudget) && !affordable(n)) return undefined;
          return apply(native, this, arguments);
        } }[name];
      }
      defineProperty(target, name, { value: wrapped, writable: true, configurable: true, enumerable: false });
    }
  }
  meter(String.prototype, ['indexOf', 'lastIndexOf', 'includes', 'startsWith', 'endsWith', 'search',
    'localeCompare', 'normalize', 'toLowerCase', 'toUpperCase', 'toLocaleLowerCase',
    'toLocaleUpperCase', 'trim', 'trimStart', 'trimEnd', 'at'], 'fixed');
  meter(String.prototype, ['split', 'replace', 'replaceAll', 'match', 'matchAll', 'concat'], 'arg');
  meter(String.prototype, ['repeat'], (self, args) => lengthOf(self) * (toNumber(args[0]) || 0));
  meter(String.prototype, ['padStart', 'padEnd'], (self, args) => toNumber(args[0]) || 0);
  // lastIndexOf, concat and splice tell a missing argument from undefined: they keep `arguments`.
  meter(Array.prototype, ['indexOf', 'includes', 'join', 'toString', 'fill', 'slice', 'reverse',
    'copyWithin', 'flat', 'sort', 'toReversed', 'toSorted'], 'fixed');
  meter(Array.prototype, ['lastIndexOf', 'concat', 'splice'], null);
  const typedProto = Object.getPrototypeOf(Uint8Array.prototype);
  meter(typedProto, ['indexOf', 'lastIndexOf', 'includes', 'join', 'toString', 'fill', 'slice',
    'subarray', 'set', 'sort', 'reverse', 'copyWithin'], null);
  meter(JSON, ['parse'], (self, args) => lengthOf(args[0]));
  meter(String, ['fromCharCode', 'fromCodePoint'], (self, args) => args.length);

  // ---- timers in simulated time ----------------------------------------------------------
  // The event loop is the host's (js/mod.rs): it drains microtasks, then runs the earliest
  // timer, advancing simulated time to it. Pending timers are dropped when an invocation ends.
  let timers = [];
  let timerSeq = 0;
  function addTimer(fn, ms, args, every) {
    if (typeof fn !== 'function') throw new TypeError('The "callback" argument must be of type function');
    const id = ++timerSeq;
    const wanted = toNumber(ms);
    const delay = isFiniteNumber(wanted) && wanted > 1 ? wanted : 1;
    timers[timers.length] = { id, due: virtualMs + delay, fn, args, every: every ? delay : 0 };
    if (currentSt !== null && currentSt.viaCallback) currentSt.wait = true;
    return id;
  }
  function removeTimerAt(k) {
    for (let i = k + 1; i < timers.length; i++) timers[i - 1] = timers[i];
    timers.length = timers.length - 1;
  }
  global.setTimeout = (fn, ms, ...args) => addTimer(fn, ms, args, false);
  global.setInterval = (fn, ms, ...args) => addTimer(fn, ms, args, true);
  global.setImmediate = (fn, ...args) => addTimer(fn, 0, args, false);
  global.clearTimeout = global.clearInterval = global.clearImmediate = (id) => {
    for (let i = 0; i < timers.length; i++) if (timers[i].id === id) { removeTimerAt(i); return; }
  };
  const resolved = Promise.resolve();
  const then = uncurry(Promise.prototype.then);
  global.queueMicrotask = (fn) => {
    if (typeof fn !== 'function') throw new TypeError('The "callback" argument must be of type function');
    then(resolved, () => { fn(); });
  };
  // Run the earliest timer; false when none is left.
  es.runTimer = function (key) {
    guard(key);
    if (timers.length === 0) return false;
    let k = 0;
    for (let i = 1; i < timers.length; i++) if (timers[i].due < timers[k].due) k = i;
    const t = timers[k];
    const at = t.due;
    if (t.every) t.due = at + t.every; else removeTimerAt(k);
    if (at > virtualMs) virtualMs = at;
    t.fn(...t.args);
    return true;
  };
  es.virtualMs = (k) => { guard(k); return virtualMs; };

  // ---- UTF-8 and base64 ------------------------------------------------------------------
  function utf8Encode(s) {
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
  function utf8Decode(bytes, start, end) {
    let s = '';
    for (let i = start; i < end;) {
      const b = bytes[i++];
      let c;
      if (b < 0x80) c = b;
      else if (b >= 0xf0) { c = ((b & 7) << 18) | ((bytes[i] & 63) << 12) | ((bytes[i + 1] & 63) << 6) | (bytes[i + 2] & 63); i += 3; }
      else if (b >= 0xe0) { c = ((b & 15) << 12) | ((bytes[i] & 63) << 6) | (bytes[i + 1] & 63); i += 2; }
      else if (b >= 0xc0) { c = ((b & 31) << 6) | (bytes[i] & 63); i += 1; }
      else c = 0xfffd;
      s += String.fromCodePoint(c);
    }
    return s;
  }
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  function base64Encode(bytes, start, end, url) {
    let s = '';
    for (let i = start; i < end; i += 3) {
      const n = (bytes[i] << 16) | ((i + 1 < end ? bytes[i + 1] : 0) << 8) | (i + 2 < end ? bytes[i + 2] : 0);
      s += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
      s += i + 1 < end ? B64[(n >> 6) & 63] : (url ? '' : '=');
      s += i + 2 < end ? B64[n & 63] : (url ? '' : '=');
    }
    return url ? s.replace(/\+/g, '-').replace(/\//g, '_') : s;
  }
  function base64Decode(s) {
    const out = [];
    let acc = 0, bits = 0;
    for (let i = 0; i < s.length; i++) {
      const ch = s[i];
      let v = B64.indexOf(ch);
      if (ch === '-') v = 62; else if (ch === '_') v = 63;
      if (v < 0) continue;
      acc = (acc << 6) | v; bits += 6;
      if (bits >= 8) { bits -= 8; out.push((acc >> bits) & 255); }
    }
    return out;
  }
  global.btoa = (s) => base64Encode(Array.from(String(s), (c) => c.charCodeAt(0) & 255), 0, String(s).length, false);
  global.atob = (s) => String.fromCharCode(...base64Decode(String(s)));

  // ---- Buffer (the parts handlers use) ---------------------------------------------------
  class Buffer extends Uint8Array {
    static from(value, encoding) {
      if (typeof value === 'string') return Buffer.fromBytes(encodeString(value, encoding));
      if (value instanceof ArrayBuffer) return new Buffer(value);
      if (value && typeof value.length === 'number') return Buffer.fromBytes(Array.from(value, (x) => x & 255));
      if (value && value.type === 'Buffer' && Array.isArray(value.data)) return Buffer.fromBytes(value.data);
      throw new TypeError('The first argument must be a string, Buffer, ArrayBuffer or Array');
    }
    static fromBytes(bytes) { const b = new Buffer(bytes.length); for (let i = 0; i < bytes.length; i++) b[i] = bytes[i]; return b; }
    static alloc(n, fill) { const b = new Buffer(n); if (fill !== undefined) b.fill(typeof fill === 'number' ? fill : encodeString(String(fill))[0] || 0); return b; }
    static isBuffer(b) { return b instanceof Buffer; }
    static byteLength(s, encoding) { return typeof s === 'string' ? encodeString(s, encoding).length : s.length; }
    static concat(list, total) {
      const n = total === undefined ? list.reduce((a, b) => a + b.length, 0) : total;
      const out = new Buffer(n);
      let o = 0;
      for (const b of list) { for (let i = 0; i < b.length && o < n; i++) out[o++] = b[i]; }
      return out;
    }
    toString(encoding, start, end) {
      start = start || 0; end = end === undefined ? this.length : end;
      switch ((encoding || 'utf8').toLowerCase()) {
        case 'utf8': case 'utf-8': return utf8Decode(this, start, end);
        case 'base64': return base64Encode(this, start, end, false);
        case 'base64url': return base64Encode(this, start, end, true);
        case 'hex': { let s = ''; for (let i = start; i < end; i++) s += (this[i] < 16 ? '0' : '') + this[i].toString(16); return s; }
        case 'latin1': case 'binary': case 'ascii': { let s = ''; for (let i = start; i < end; i++) s += String.fromCharCode(this[i]); return s; }
        default: throw new TypeError('Unknown encoding: ' + encoding);
      }
    }
    toJSON() { return { type: 'Buffer', data: Array.from(this) }; }
    equals(other) { if (this.length !== other.length) return false; for (let i = 0; i < this.length; i++) if (this[i] !== other[i]) return false; return true; }
    slice(start, end) { return Buffer.fromBytes(Array.prototype.slice.call(this, start, end)); }
    write(s, offset) { const bytes = encodeString(s); offset = offset || 0; let i = 0; for (; i < bytes.length && offset + i < this.length; i++) this[offset + i] = bytes[i]; return i; }
  }
  function encodeString(s, encoding) {
    switch ((encoding || 'utf8').toLowerCase()) {
      case 'utf8': case 'utf-8': return utf8Encode(s);
      case 'base64': case 'base64url': return base64Decode(s);
      case 'hex': { const out = []; for (let i = 0; i + 1 < s.length; i += 2) out.push(parseInt(s.substr(i, 2), 16)); return out; }
      case 'latin1': case 'binary': case 'ascii': return Array.from(s, (c) => c.charCodeAt(0) & 255);
      default: throw new TypeError('Unknown encoding: ' + encoding);
    }
  }
  global.Buffer = Buffer;

  // ---- querystring -----------------------------------------------------------------------
  function qsEscape(s) { return encodeURIComponent(s); }
  function qsUnescape(s) { try { return decodeURIComponent(s); } catch (e) { return s; } }
  function qsValue(v) {
    if (typeof v === 'string') return v;
    if (typeof v === 'number' && isFinite(v)) return '' + v;
    if (typeof v === 'bigint' || typeof v === 'boolean') return '' + v;
    return '';
  }
  const querystring = {
    escape: qsEscape,
    unescape: qsUnescape,
    parse(str, sep, eq, options) {
      sep = sep || '&'; eq = eq || '=';
      const out = Object.create(null);
      if (typeof str !== 'string' || str.length === 0) return out;
      const decode = (options && options.decodeURIComponent) || querystring.unescape;
      let parts = str.split(sep);
      const max = options && typeof options.maxKeys === 'number' ? options.maxKeys : 1000;
      if (max > 0) parts = parts.slice(0, max);
      for (const part of parts) {
        if (part.length === 0) continue;
        const i = part.indexOf(eq);
        const k = decode((i >= 0 ? part.slice(0, i) : part).replace(/\+/g, ' '));
        const v = i >= 0 ? decode(part.slice(i + eq.length).replace(/\+/g, ' ')) : '';
        if (!(k in out)) out[k] = v;
        else if (Array.isArray(out[k])) out[k].push(v);
        else out[k] = [out[k], v];
      }
      return out;
    },
    stringify(obj, sep, eq, options) {
      sep = sep || '&'; eq = eq || '=';
      const encode = (options && options.encodeURIComponent) || querystring.escape;
      if (obj === null || typeof obj !== 'object') return '';
      const out = [];
      for (const k of Object.keys(obj)) {
        const v = obj[k];
        const ks = encode(qsValue(k)) + eq;
        if (Array.isArray(v)) { for (const x of v) out.push(ks + encode(qsValue(x))); }
        else out.push(ks + encode(qsValue(v)));
      }
      return out.join(sep);
    },
  };
  querystring.decode = querystring.parse;
  querystring.encode = querystring.stringify;

  // ---- URL / URLSearchParams -------------------------------------------------------------
  function formEncode(s) { return encodeURIComponent(s).replace(/%20/g, '+'); }
  class URLSearchParams {
    constructor(init) {
      this._list = [];
      if (typeof init === 'string') {
        const s = init[0] === '?' ? init.slice(1) : init;
        for (const part of s.split('&')) {
          if (!part) continue;
          const i = part.indexOf('=');
          const k = i >= 0 ? part.slice(0, i) : part, v = i >= 0 ? part.slice(i + 1) : '';
          this._list.push([qsUnescape(k.replace(/\+/g, ' ')), qsUnescape(v.replace(/\+/g, ' '))]);
        }
      } else if (init && typeof init[Symbol.iterator] === 'function') {
        for (const [k, v] of init) this._list.push([String(k), String(v)]);
      } else if (init && typeof init === 'object') {
        for (const k of Object.keys(init)) this._list.push([k, String(init[k])]);
      }
    }
    get size() { return this._list.length; }
    append(k, v) { this._list.push([String(k), String(v)]); }
    delete(k) { this._list = this._list.filter((e) => e[0] !== k); }
    get(k) { const e = this._list.find((x) => x[0] === k); return e ? e[1] : null; }
    getAll(k) { return this._list.filter((x) => x[0] === k).map((x) => x[1]); }
    has(k) { return this._list.some((x) => x[0] === k); }
    set(k, v) {
      const i = this._list.findIndex((x) => x[0] === k);
      if (i < 0) { this.append(k, v); return; }
      this._list[i][1] = String(v);
      this._list = this._list.filter((x, j) => j <= i || x[0] !== k);
    }
    sort() { this._list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)); }
    forEach(fn, self) { for (const [k, v] of this._list) fn.call(self, v, k, this); }
    keys() { return this._list.map((x) => x[0])[Symbol.iterator](); }
    values() { return this._list.map((x) => x[1])[Symbol.iterator](); }
    entries() { return this._list.map((x) => [x[0], x[1]])[Symbol.iterator](); }
    [Symbol.iterator]() { return this.entries(); }
    toString() { return this._list.map(([k, v]) => formEncode(k) + '=' + formEncode(v)).join('&'); }
  }
  const URL_RE = /^([a-zA-Z][a-zA-Z0-9+.-]*:)\/\/(?:([^:@\/?#]*)(?::([^@\/?#]*))?@)?(\[[^\]]*\]|[^:\/?#]*)(?::(\d*))?([^?#]*)(\?[^#]*)?(#.*)?$/;
  const DEFAULT_PORTS = { 'http:': '80', 'https:': '443', 'ws:': '80', 'wss:': '443', 'ftp:': '21' };
  class URL {
    constructor(input, base) {
      input = String(input);
      let m = URL_RE.exec(input);
      if (!m && base !== undefined) {
        const b = new URL(base);
        let path = input;
        if (input.startsWith('//')) return new URL(b.protocol + input);
        if (input[0] !== '/' && input[0] !== '?' && input[0] !== '#') path = b.pathname.replace(/[^\/]*$/, '') + input;
        else if (input[0] === '?') path = b.pathname + input;
        else if (input[0] === '#') path = b.pathname + b.search + input;
        m = URL_RE.exec(b.protocol + '//' + b.host + path);
      }
      if (!m) throw new TypeError('Invalid URL: ' + input);
      this.protocol = m[1].toLowerCase();
      this.username = m[2] || '';
      this.password = m[3] || '';
      this.hostname = m[4].toLowerCase();
      this.port = m[5] && m[5] !== DEFAULT_PORTS[this.protocol] ? m[5] : '';
      this.pathname = m[6] || '/';
      this.hash = m[8] && m[8] !== '#' ? m[8] : '';
      this.searchParams = new URLSearchParams(m[7] || '');
      this._search = m[7] && m[7] !== '?' ? m[7] : '';
    }
    get host() { return this.hostname + (this.port ? ':' + this.port : ''); }
    get origin() { return this.protocol + '//' + this.host; }
    get search() { const s = this.searchParams.toString(); return s ? '?' + s : ''; }
    set search(v) { this.searchParams = new URLSearchParams(String(v)); }
    get href() {
      const auth = this.username ? this.username + (this.password ? ':' + this.password : '') + '@' : '';
      return this.protocol + '//' + auth + this.host + this.pathname + this.search + this.hash;
    }
    toString() { return this.href; }
    toJSON() { return this.href; }
  }
  global.URL = URL;
  global.URLSearchParams = URLSearchParams;
  const url = {
    URL, URLSearchParams,
    parse(str, parseQuery) {
      const m = /^(?:([a-zA-Z][a-zA-Z0-9+.-]*:)?(\/\/)([^\/?#]*))?([^?#]*)(\?[^#]*)?(#.*)?$/.exec(String(str)) || [];
      const host = m[3] === undefined ? null : m[3];
      const at = host ? host.lastIndexOf('@') : -1;
      const hostPart = at >= 0 ? host.slice(at + 1) : host;
      const colon = hostPart ? hostPart.lastIndexOf(':') : -1;
      const search = m[5] || null;
      return {
        protocol: m[1] ? m[1].toLowerCase() : null,
        slashes: !!m[2],
        auth: at >= 0 ? host.slice(0, at) : null,
        host: hostPart ? hostPart.toLowerCase() : null,
        port: colon >= 0 ? hostPart.slice(colon + 1) : null,
        hostname: hostPart ? (colon >= 0 ? hostPart.slice(0, colon) : hostPart).toLowerCase() : null,
        hash: m[6] || null,
        search,
        query: parseQuery ? querystring.parse(search ? search.slice(1) : '') : (search ? search.slice(1) : null),
        pathname: m[4] || (hostPart ? '/' : null),
        path: (m[4] || (hostPart ? '/' : '')) + (search || ''),
        href: String(str),
      };
    },
    format(u) {
      if (u instanceof URL) return u.href;
      const q = u.search || (u.query && typeof u.query === 'object' ? '?' + querystring.stringify(u.query) : '');
      return (u.protocol ? u.protocol + '//' : '') + (u.host || u.hostname || '') + (u.pathname || '') + q + (u.hash || '');
    },
  };

  // ---- crypto (hashes by the host; random bytes from the seeded generator) ---------------
  function toBinary(data, encoding) {
    const bytes = typeof data === 'string' ? encodeString(data, encoding) : Array.from(data);
    let s = '';
    for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return s;
  }
  function digestAs(hex, encoding) {
    const b = Buffer.from(hex, 'hex');
    return encoding ? b.toString(encoding) : b;
  }
  function hasher(algorithm, key) {
    const alg = String(algorithm).toLowerCase().replace('-', '');
    let data = '';
    return {
      update(chunk, encoding) { data += toBinary(chunk, encoding); return this; },
      digest(encoding) { return digestAs(hostHash(alg, key, data), encoding); },
    };
  }
  const crypto = {
    createHash: (alg) => hasher(alg, null),
    createHmac: (alg, key) => hasher(alg, toBinary(key)),
    randomBytes(n) { ensureSeeded(); const b = new Buffer(n); for (let i = 0; i < n; i++) b[i] = next32() & 255; return b; },
    randomUUID() {
      const b = crypto.randomBytes(16);
      b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
      const h = b.toString('hex');
      return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
    },
    randomInt(a, b) { if (b === undefined) { b = a; a = 0; } return a + Math.floor(Math.random() * (b - a)); },
  };
  global.crypto = { randomUUID: crypto.randomUUID, getRandomValues(arr) { ensureSeeded(); for (let i = 0; i < arr.length; i++) arr[i] = next32(); return arr; } };

  const util = {
    format: (...a) => format(a),
    inspect: (v) => show(v, 1),
    promisify: (fn) => (...args) => new Promise((res, rej) => fn(...args, (e, v) => (e ? rej(e) : res(v)))),
  };
  const modules = { querystring, url, crypto, util, buffer: { Buffer } };
  function require(name) {
    const n = String(name).replace(/^node:/, '');
    if (Object.prototype.hasOwnProperty.call(modules, n)) return modules[n];
    const e = new Error("Cannot find module '" + name + "'");
    e.code = 'MODULE_NOT_FOUND';
    throw e;
  }
  global.require = require;
  es.require = require;
  es.setHandler = (k, h) => { guard(k); handler = h; };
  let handler;

  // ---- invocation --------------------------------------------------------------------------
  const contextProto = {
    callbackWaitsForEmptyEventLoop: true,
    functionVersion: '1',
    getRemainingTimeInMillis() { return Math.max(0, timeoutMs - virtualMs); },
  };
  es.setFunction = function (k, name, memoryMb, region) {
    guard(k);
    contextProto.functionName = 'us-east-1.' + name;
    contextProto.memoryLimitInMB = String(memoryMb);
    contextProto.invokedFunctionArn = 'arn:aws:lambda:us-east-1:123456789012:function:' + name + ':1';
    contextProto.logGroupName = '/aws/lambda/us-east-1.' + name;
    contextProto.logStreamName = '2024/01/01/[1]edgesim';
  };
  es.describe = function (e) {
    if (e instanceof Error) return (e.name || 'Error') + ': ' + e.message;
    if (typeof e === 'string') return 'Error: ' + e;
    try { return 'Error: ' + JSON.stringify(e); } catch (x) { return 'Error: ' + String(e); }
  };
  // One context object serves every call: its callbacks forward to the current call's callback.
  let currentCb = null;
  let currentSt = null;
  const context = Object.create(contextProto);
  context.done = (err, res) => currentCb && currentCb(err, res);
  context.succeed = (res) => currentCb && currentCb(null, res);
  context.fail = (err) => currentCb && currentCb(err === undefined ? new Error('fail') : err);
  // After the answer: must the host keep running timers before delivering it? As Lambda's Node
  // runtime does, an answer given through the callback waits for the event loop to empty unless
  // the handler set `context.callbackWaitsForEmptyEventLoop = false`; a promise's does not.
  es.mustWait = (k) => {
    guard(k);
    return currentSt !== null && currentSt.viaCallback
      && !!context.callbackWaitsForEmptyEventLoop && timers.length > 0;
  };
  // Start a handler call. Returns the state object; Rust drains jobs and timers until `done`.
  // The callback refers to the state but the state never refers to the callback: no reference
  // cycle, so each call's objects are freed by reference counting instead of piling up for the
  // cycle collector.
  //
  // The event is built here from flat values: object literals keep CloudFront's property order
  // and use names interned once in this bytecode. Header lines arrive as rest arguments,
  // [name, n, key1, value1, ... keyN, valueN, name, ...], one group per lowercase name: first
  // the request's (`split` values), then the response's.
  function headersOf(flat, from, end) {
    const h = {};
    let i = from;
    while (i < end) {
      const name = flat[i];
      const n = flat[i + 1];
      if (n === 1) {
        h[name] = [{ key: flat[i + 2], value: flat[i + 3] }];
        i += 4;
      } else {
        const list = [];
        i += 2;
        for (let j = 0; j < n; j++, i += 2) list.push({ key: flat[i], value: flat[i + 1] });
        h[name] = list;
      }
    }
    return h;
  }
  es.invoke = function (k, sink, now, hi, lo, timeout, requestId, domain, distributionId, eventType,
                        clientIp, method, origin, querystring, uri, body, status,
                        statusDescription, split, ...flat) {
    guard(k);
    const headers = headersOf(flat, 0, split);
    const request = origin === undefined
      ? { clientIp, headers, method, querystring, uri }
      : { clientIp, headers, method, origin, querystring, uri };
    if (body !== undefined) request.body = body;
    const config = { distributionDomainName: domain, distributionId, eventType, requestId };
    const cf = status === undefined
      ? { config, request }
      : { config, request, response: { headers: headersOf(flat, split, flat.length), status, statusDescription } };
    const event = { Records: [{ cf }] };
    nowMs = now; virtualMs = 0; timeoutMs = timeout;
    if (timers.length) timers.length = 0;
    logs = sink;
    logChars = 0; logWritten = 0; logWrittenChars = 0; logDropped = 0; pendingUs = 0; overBudget = false;
    seedHi = hi; seedLo = lo; seeded = false;
    // `wait`: answered through the callback with timers pending (the host then asks mustWait).
    const st = { done: false, wait: false, failed: false, value: undefined, request, viaCallback: false };
    const settle = (err, res, viaCallback) => {
      if (st.done) return;
      st.done = true;
      st.viaCallback = viaCallback;
      st.wait = viaCallback && timers.length > 0;
      if (err !== null && err !== undefined) { st.failed = true; st.value = err; } else st.value = res;
    };
    const cb = (err, res) => settle(err, res, true);
    currentCb = cb;
    currentSt = st;
    context.awsRequestId = requestId;
    context.callbackWaitsForEmptyEventLoop = true;
    const ret = handler(event, context, cb);
    if (!st.done && ret !== null && typeof ret === 'object' && typeof ret.then === 'function') {
      ret.then((v) => settle(null, v === undefined ? null : v, false),
        (e) => settle(e === undefined || e === null ? new Error('Promise rejected') : e, undefined, false));
    }
    return st;
  };
})(globalThis, globalThis.__edgesim_hash, globalThis.__edgesim_charge, globalThis.__edgesim_regex);
