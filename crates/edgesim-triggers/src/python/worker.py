# edgesim's Python Lambda@Edge worker: one CPython process runs one handler, deterministically.
#
# Started by crates/edgesim-triggers/src/python/mod.rs as `python3 -s -S -B -c <this file>` with
# an empty environment (PYTHONHASHSEED=0 only) in `/`. It speaks
# copies of stdin/stdout (fds 0-2 are then pointed at /dev/null): frames of a u32 length
# (little-endian) and a `marshal` (version 2) value; answers carry a tag byte after the length,
# `M` (marshal) or `J` (JSON text, when asked for with {"json": True} because a marshalled reply
# holds something JSON would have carried differently or refused). A hello first, then one
# reply per request. Work is counted with sys.settrace: every `call`, `line`, `return` and
# `exception` event of Python code is one step, never the wall clock. The standard modules
# CloudFront examples use are imported before the sandbox is sealed; after that an audit hook
# refuses file, network, process, environment and new-import access, and resource limits bound
# memory. Time, `random`, `os.urandom` and `uuid` follow the simulated clock and the
# per-invocation seed.

import sys


def _edgesim_worker():
    sys.path[:] = [p for p in sys.path if p and p != "."]
    import os

    proto_in = os.fdopen(os.dup(0), "rb", buffering=1 << 16)
    proto_out = os.fdopen(os.dup(1), "wb", buffering=1 << 16)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)

    import json
    import marshal

    # One encoder for every JSON reply: json.dumps with options builds a new one per call.
    encode = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode
    dumps, loads = marshal.dumps, marshal.loads
    del sys.modules["marshal"]
    read, write, flush = proto_in.read, proto_out.write, proto_out.flush

    def send(obj):
        data = dumps(obj, 2)
        write((len(data) + 1).to_bytes(4, "little") + b"M" + data)
        flush()

    def send_json(obj):
        data = encode(obj).encode()
        write((len(data) + 1).to_bytes(4, "little") + b"J" + data)
        flush()

    def receive():
        head = read(4)
        if len(head) < 4:
            return None
        return loads(read(int.from_bytes(head, "little")))

    send({"hello": list(sys.version_info[:3]), "hash_randomization": sys.flags.hash_randomization})

    # What handlers may import: loaded now, while files can still be read.
    preload = [
        "json", "base64", "binascii", "hashlib", "hmac", "re", "datetime", "time", "random",
        "uuid", "math", "cmath", "collections", "collections.abc", "itertools", "functools",
        "operator", "string", "copy", "zlib", "gzip", "struct", "decimal", "fractions",
        "numbers", "typing", "dataclasses", "enum", "abc", "urllib", "urllib.parse", "http",
        "http.cookies", "html", "ipaddress", "textwrap", "unicodedata", "calendar", "bisect",
        "heapq", "statistics", "secrets", "logging", "traceback", "warnings", "contextlib",
        "types", "weakref", "pprint", "io", "codecs", "difflib", "fnmatch", "hashlib",
        "encodings.idna", "encodings.utf_8", "encodings.latin_1", "encodings.ascii",
        "xml.etree.ElementTree", "email.utils", "csv", "array",
    ]
    import importlib
    for name in preload:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    import resource
    import random
    import time
    import uuid
    import datetime as dt_module
    import traceback
    import builtins

    # Modules that reach outside the process are dropped (a preloaded module may have pulled
    # them in); importing them again is refused below.
    for name in list(sys.modules):
        root = name.split(".")[0]
        if root in ("socket", "_socket", "subprocess", "_posixsubprocess", "ctypes", "_ctypes",
                    "select", "selectors", "mmap", "fcntl", "pty", "multiprocessing", "ssl",
                    "_ssl", "asyncio", "resource", "urllib.request", "http.client", "ftplib",
                    "smtplib", "shutil", "tempfile", "signal", "_signal", "pathlib", "glob"):
            if name not in ("signal", "_signal"):
                del sys.modules[name]

    # ---- the request loop's state --------------------------------------------------------
    state = {
        "now": 0.0,          # simulated seconds since the epoch at invocation start
        "slept": 0.0,        # simulated seconds slept (time.sleep) in this invocation
        "timeout": 0.0,      # the function's timeout, seconds
        "tripped": None,     # why the invocation must end: "timeout" once the budget is spent
    }
    # Seeded on first use: most handlers never draw from it.
    rng = [None, 0]

    class BudgetExceeded(BaseException):
        pass

    # ---- deterministic time, random and urandom ------------------------------------------
    real_gmtime, real_localtime, real_strftime = time.gmtime, time.localtime, time.strftime

    def now():
        return state["now"] + state["slept"]

    def sleep(secs):
        if secs < 0:
            raise ValueError("sleep length must be non-negative")
        state["slept"] += float(secs)
        if state["slept"] > state["timeout"]:
            state["tripped"] = "timeout"
            raise BudgetExceeded("Task timed out")

    def urandom(n):
        if rng[0] is None:
            rng[0] = random.Random(rng[1])
        return rng[0].randbytes(int(n))

    time.time = now
    time.time_ns = lambda: int(round(now() * 1e9))
    time.monotonic = lambda: 1000.0 + state["slept"]
    time.monotonic_ns = lambda: int(round((1000.0 + state["slept"]) * 1e9))
    time.perf_counter = time.monotonic
    time.perf_counter_ns = time.monotonic_ns
    time.process_time = lambda: 0.0
    time.process_time_ns = lambda: 0
    time.thread_time = lambda: 0.0
    time.thread_time_ns = lambda: 0
    time.sleep = sleep
    time.gmtime = lambda secs=None: real_gmtime(now() if secs is None else secs)
    time.localtime = lambda secs=None: real_localtime(now() if secs is None else secs)
    time.ctime = lambda secs=None: time.asctime(real_localtime(now() if secs is None else secs))
    real_asctime = time.asctime
    time.asctime = lambda t=None: real_asctime(real_localtime(now()) if t is None else t)
    time.strftime = lambda fmt, t=None: real_strftime(fmt, real_localtime(now()) if t is None else t)
    os.urandom = urandom
    random._urandom = urandom
    uuid._generate_time_safe = None
    uuid.getnode = lambda: 0x0242AC110002
    uuid._node = 0x0242AC110002

    base_date, base_datetime = dt_module.date, dt_module.datetime

    class date(base_date):
        __slots__ = ()

        @classmethod
        def today(cls):
            return cls.fromtimestamp(now())

    class datetime(base_datetime, date):
        __slots__ = ()

        @classmethod
        def now(cls, tz=None):
            return cls.fromtimestamp(now(), tz)

        @classmethod
        def utcnow(cls):
            return cls.utcfromtimestamp(now())

        @classmethod
        def today(cls):
            return cls.fromtimestamp(now())

    for cls, name in ((date, "date"), (datetime, "datetime")):
        cls.__name__ = cls.__qualname__ = name
        cls.__module__ = "datetime"
    dt_module.date = date
    dt_module.datetime = datetime

    # `random`'s module functions seed the shared generator with the invocation's seed on first
    # use: seeding costs more than a small handler, and most never draw.
    shared = random._inst
    pending_seed = [None]

    def seeded(method):
        def draw(*args, **kwargs):
            if pending_seed[0] is not None:
                shared.seed(pending_seed[0])
                pending_seed[0] = None
            return method(*args, **kwargs)
        draw.__name__ = draw.__qualname__ = method.__name__
        draw.__doc__ = method.__doc__
        return draw

    for name in dir(shared):
        method = getattr(shared, name)
        if (not name.startswith("_") and name != "seed" and callable(method)
                and getattr(random, name, None) == method):
            setattr(random, name, seeded(method))

    def seed(a=None, version=2):
        pending_seed[0] = None
        shared.seed(a, version)

    random.seed = seed

    # ---- the environment: nothing beyond what Lambda@Edge gives --------------------------
    class Environ(dict):
        def _refuse(self, *args, **kwargs):
            raise PermissionError("os.environ is not available: Lambda@Edge functions have no environment variables")
        __getitem__ = __setitem__ = __delitem__ = __iter__ = __len__ = __contains__ = _refuse
        get = keys = items = values = copy = setdefault = pop = update = _refuse

    os.environ = Environ()
    os.environb = Environ()
    import posix
    posix.environ.clear()

    # ---- console: print and logging go to capped per-invocation logs --------------------
    caps = {"lines": 1000, "chars": 256 * 1024}
    costs = {"us_per_line": 5, "ns_per_char": 1, "steps_per_us": 1.0}
    logs = []
    log = {"partial": "", "lines": 0, "chars": 0, "kept_chars": 0, "dropped": 0}

    def emit(line):
        log["lines"] += 1
        log["chars"] += len(line)
        cost_us = costs["us_per_line"] + len(line) * costs["ns_per_char"] / 1000.0
        cost_steps = int(cost_us * costs["steps_per_us"])
        if len(logs) >= caps["lines"] or log["kept_chars"] >= caps["chars"]:
            log["dropped"] += 1
        else:
            room = caps["chars"] - log["kept_chars"]
            if len(line) > room:
                line = line[:room]
                log["dropped"] += 1
            logs.append(line)
            log["kept_chars"] += len(line)
        charge(cost_steps)

    class Console:
        encoding = "utf-8"
        errors = "strict"

        def write(self, text):
            if not isinstance(text, str):
                raise TypeError("write() argument must be str, not " + type(text).__name__)
            parts = (log["partial"] + text).split("\n")
            log["partial"] = parts.pop()
            for line in parts:
                emit(line)
            # An endless line without newlines is still capped.
            if len(log["partial"]) > caps["chars"]:
                emit(log["partial"])
                log["partial"] = ""
            return len(text)

        def flush(self):
            pass

        def isatty(self):
            return False

        def writable(self):
            return True

    sys.stdout = sys.stderr = sys.__stdout__ = sys.__stderr__ = Console()
    sys.stdin = sys.__stdin__ = None
    import logging
    logging.lastResort = logging.StreamHandler(sys.stderr)
    logging.lastResort.setLevel(logging.WARNING)

    # ---- work counting ------------------------------------------------------------------
    # The tracer is the hot path (once per event): closure integers, no dictionary.
    def make_meter():
        steps = 0
        limit = 0

        def local(frame, event, arg):
            nonlocal steps
            steps += 1
            if steps > limit:
                trip()
            return local

        def tracer(frame, event, arg):
            nonlocal steps
            steps += 1
            if steps > limit:
                trip()
            return local

        def reset(new_limit):
            nonlocal steps, limit
            steps, limit = 0, new_limit

        def charge(units):
            nonlocal limit
            limit -= units
            if steps > limit:
                trip()

        def work(units):
            nonlocal steps
            steps += units
            if steps > limit:
                trip()

        def count():
            return steps

        return tracer, reset, charge, work, count

    def trip():
        state["tripped"] = "timeout"
        raise BudgetExceeded("Task timed out")

    tracer, reset_meter, charge, work, step_count = make_meter()

    # ---- C-level work, counted in the same steps ------------------------------------------
    # C code runs between trace events, so the common C-heavy operations are charged by size
    # before they run (README, "Python handlers"): one step per ITEMS_PER_STEP items a builtin
    # loops over, one per CHARS_PER_STEP characters a regex scans. A charge that does not fit
    # the remaining budget ends the run as a timeout before the C code starts.
    ITEMS_PER_STEP = 4
    CHARS_PER_STEP = 32
    SMALL_RANGE = 4096
    import itertools
    import re

    real_range = range

    def sized(obj):
        try:
            return len(obj)
        except (TypeError, OverflowError):
            return None

    class MeteredRange:
        """A range too long to walk uncounted: iterating it is Python code, so every item is
        counted like a loop iteration, whichever C function consumes it."""

        __slots__ = ("_r",)

        def __init__(self, r):
            self._r = r

        def __iter__(self):
            for i in self._r:
                yield i

        def __reversed__(self):
            for i in reversed(self._r):
                yield i

        def __len__(self):
            return len(self._r)

        def __bool__(self):
            return bool(self._r)

        def __getitem__(self, key):
            item = self._r[key]
            return metered_range(item) if isinstance(item, real_range) else item

        def __contains__(self, value):
            if type(value) is not int:
                work(sized(self._r) or 0)
            return value in self._r

        def __eq__(self, other):
            return self._r == (other._r if isinstance(other, MeteredRange) else other)

        def __hash__(self):
            return hash(self._r)

        def __repr__(self):
            return repr(self._r)

        def index(self, value):
            return self._r.index(value)

        def count(self, value):
            if type(value) is not int:
                work(sized(self._r) or 0)
            return self._r.count(value)

        start = property(lambda self: self._r.start)
        stop = property(lambda self: self._r.stop)
        step = property(lambda self: self._r.step)

    def metered_range(r):
        n = sized(r)
        return r if n is not None and n <= SMALL_RANGE else MeteredRange(r)

    def range_(*args):
        return metered_range(real_range(*args))

    range_.__name__ = range_.__qualname__ = "range"

    def items_of(obj):
        """Items a C loop over `obj` walks, if it says (a range past sys.maxsize: too many)."""
        if isinstance(obj, MeteredRange):
            obj = obj._r
        n = sized(obj)
        if n is None and isinstance(obj, real_range):
            return 1 << 62
        return n

    def metered_builtin(real, consumes_all):
        """`sum`, `min`, `max` (the whole input: a long range runs in C, charged up front);
        `any`, `all` (they may stop early: a long range yields through Python code, each item
        counted); sized inputs are charged for all their items."""
        def metered(*args, **kwargs):
            if len(args) == 1 or (real is sum and args):
                first = args[0]
                n = items_of(first)
                if isinstance(first, MeteredRange) and not consumes_all:
                    pass
                elif n is not None:
                    work(n // ITEMS_PER_STEP)
                    if isinstance(first, MeteredRange):
                        args = (first._r,) + args[1:]
            return real(*args, **kwargs)
        metered.__name__ = metered.__qualname__ = real.__name__
        metered.__doc__ = real.__doc__
        return metered

    def metered_sorted(iterable, /, *, key=None, reverse=False):
        """n log2 n comparisons, charged before sorting (before copying, when the input says
        its length)."""
        n = items_of(iterable)
        if n is not None:
            work(n * max(1, n.bit_length()) // ITEMS_PER_STEP)
            items = list(iterable._r if isinstance(iterable, MeteredRange) else iterable)
        else:
            items = list(iterable)
            work(len(items) * max(1, len(items).bit_length()) // ITEMS_PER_STEP)
        items.sort(key=key, reverse=reverse)
        return items

    handler_builtins = dict(vars(builtins))
    for name, consumes_all in (("sum", True), ("min", True), ("max", True), ("any", False),
                               ("all", False)):
        handler_builtins[name] = metered_builtin(getattr(builtins, name), consumes_all)
    handler_builtins["sorted"] = metered_sorted
    handler_builtins["range"] = range_

    # Endless or long C iterators yield through Python code, so their items are counted.
    real_count, real_repeat, real_cycle = itertools.count, itertools.repeat, itertools.cycle

    def count_(start=0, step=1):
        for i in real_count(start, step):
            yield i

    def repeat_(obj, times=None):
        if times is not None and times <= SMALL_RANGE:
            return real_repeat(obj, times)
        return (obj for _ in (real_count() if times is None else real_range(times)))

    def cycle_(iterable):
        for i in real_cycle(iterable):
            yield i

    for fn, name in ((count_, "count"), (repeat_, "repeat"), (cycle_, "cycle")):
        fn.__name__ = fn.__qualname__ = name
    itertools.count, itertools.repeat, itertools.cycle = count_, repeat_, cycle_

    # Regular expressions: `_sre` backtracks in C. A pattern that can backtrack exponentially
    # (a repeat inside a repeat, or a backreference) is charged 2**n characters for a subject
    # of n characters, so it only runs where even its worst case fits the budget; any other
    # pattern is charged n characters per call (compiling: its own length).
    parser = getattr(re, "_parser", None)
    if parser is None:
        parser = importlib.import_module("sre_parse")
    REPEATS = ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")
    exposure = {}

    def exposed(sub, in_repeat):
        for op, av in sub.data:
            name = getattr(op, "name", str(op))
            if name in REPEATS:
                repeats = av[1] > 1
                if (repeats and in_repeat) or exposed(av[2], in_repeat or repeats):
                    return True
            elif name == "SUBPATTERN":
                if exposed(av[-1], in_repeat):
                    return True
            elif name == "BRANCH":
                if any(exposed(b, in_repeat) for b in av[1]):
                    return True
            elif name in ("ASSERT", "ASSERT_NOT"):
                if exposed(av[1], in_repeat):
                    return True
            elif name == "ATOMIC_GROUP":
                if exposed(av, in_repeat):
                    return True
            elif name in ("GROUPREF", "GROUPREF_EXISTS", "GROUPREF_IGNORE", "GROUPREF_LOC_IGNORE",
                          "GROUPREF_UNI_IGNORE"):
                return True
        return False

    def subject_cost(pattern, text):
        n = sized(text) or 0
        if exposure.get(pattern):
            return (1 << min(n, 62)) // CHARS_PER_STEP
        return n // CHARS_PER_STEP

    real_compile = re.compile

    class Pattern:
        """re.Pattern with its matching charged by subject length (see above)."""

        __slots__ = ("_p",)

        def __init__(self, compiled):
            self._p = compiled

        def __getattr__(self, name):
            return getattr(self._p, name)

        def __repr__(self):
            return repr(self._p)

        def __eq__(self, other):
            return self._p == (other._p if isinstance(other, Pattern) else other)

        def __hash__(self):
            return hash(self._p)

        def match(self, string, *args, **kwargs):
            work(subject_cost(self._p, string))
            return self._p.match(string, *args, **kwargs)

        def fullmatch(self, string, *args, **kwargs):
            work(subject_cost(self._p, string))
            return self._p.fullmatch(string, *args, **kwargs)

        def search(self, string, *args, **kwargs):
            work(subject_cost(self._p, string))
            return self._p.search(string, *args, **kwargs)

        def findall(self, string, *args, **kwargs):
            work(subject_cost(self._p, string))
            return self._p.findall(string, *args, **kwargs)

        def finditer(self, string, *args, **kwargs):
            work(subject_cost(self._p, string))
            return self._p.finditer(string, *args, **kwargs)

        def split(self, string, *args, **kwargs):
            work(subject_cost(self._p, string))
            return self._p.split(string, *args, **kwargs)

        def sub(self, repl, string, *args, **kwargs):
            work(subject_cost(self._p, string))
            return self._p.sub(repl, string, *args, **kwargs)

        def subn(self, repl, string, *args, **kwargs):
            work(subject_cost(self._p, string))
            return self._p.subn(repl, string, *args, **kwargs)

    def re_compile(pattern, flags=0):
        if isinstance(pattern, Pattern):
            pattern = pattern._p
        compiled = real_compile(pattern, flags)
        if compiled not in exposure:
            work(len(compiled.pattern) // CHARS_PER_STEP)
            if len(exposure) >= 512:
                exposure.clear()
            exposure[compiled] = exposed(parser.parse(compiled.pattern, compiled.flags), False)
        return Pattern(compiled)

    def module_level(method):
        def call(pattern, *args, **kwargs):
            flags = kwargs.pop("flags", 0)
            return getattr(re_compile(pattern, flags), method)(*args, **kwargs)
        call.__name__ = call.__qualname__ = method
        return call

    re_compile.__name__ = re_compile.__qualname__ = "compile"
    re.compile = re_compile
    for name in ("match", "fullmatch", "search", "findall", "finditer", "split", "sub", "subn"):
        setattr(re, name, module_level(name))

    switching = [False]

    def set_trace(function):
        switching[0] = True
        try:
            sys.settrace(function)
        finally:
            switching[0] = False

    def install():
        set_trace(tracer)

    def uninstall():
        set_trace(None)


    # ---- the sandbox ----------------------------------------------------------------------
    allowed = frozenset((
        "exec", "compile", "builtins.id", "sys._getframe", "object.__getattr__",
        "object.__setattr__", "object.__delattr__", "code.__new__", "function.__new__",
        "array.__new__", "sys.excepthook", "sys.unraisablehook", "cpython.run_command",
        "os.urandom", "random.seed", "_sre.compile", "re.compile", "hashlib.new",
        # The wire format; marshal builds nothing `code.__new__` (above) does not.
        "marshal.loads", "marshal.dumps",
    ))
    sealed = [False]

    def audit(event, args):
        if not sealed[0] or event in allowed:
            return
        # Our own switch, or CPython unsetting the tracer after it raised for a spent budget.
        # (A flag, not a look at the calling frame: that look is itself two audited events,
        # and this runs twice per invocation.)
        if event == "sys.settrace" and (switching[0] or state["tripped"]):
            return
        if event == "import":
            raise PermissionError(
                f"import of `{args[0]}` refused: edgesim's Python sandbox offers the standard "
                "modules it preloads (json, base64, hashlib, hmac, re, urllib.parse, datetime, "
                "time, random, uuid, ...) and nothing that reaches files, the network or processes")
        raise PermissionError(f"`{event}` refused: Lambda@Edge functions have no file, network, process or environment access here (edgesim sandbox)")

    sys.addaudithook(audit)

    # Threads would run outside the step counter (CPython 3.11 raises no audit event for them).
    import _thread
    import threading

    def no_threads(*args, **kwargs):
        raise PermissionError("threads are refused: edgesim counts a function's work on one thread (edgesim sandbox)")

    _thread.start_new_thread = _thread.start_new = no_threads
    threading._start_new_thread = no_threads

    # ---- loading the function ---------------------------------------------------------------
    def describe(exc, path):
        name = type(exc).__name__
        text = f"{name}: {exc}" if str(exc) else name
        if isinstance(exc, SyntaxError) and exc.filename == path:
            return f"{path}:{exc.lineno}: {name}: {exc.msg}"
        line = None
        for frame in traceback.extract_tb(exc.__traceback__):
            if frame.filename == path:
                line = frame.lineno
        return f"{path}:{line}: {text}" if line else f"{path}: {text}"

    def load(msg):
        path, module_name, function_name = msg["path"], msg["module"], msg["function"]
        caps["lines"], caps["chars"] = msg["max_log_lines"], msg["max_log_chars"]
        limit = msg.get("memory_bytes")
        if limit:
            try:
                with open("/proc/self/statm") as f:
                    vm_bytes = int(f.read().split()[0]) * resource.getpagesize()
            except OSError:
                vm_bytes = 0
            try:
                resource.setrlimit(resource.RLIMIT_AS, (vm_bytes + limit, vm_bytes + limit))
            except (ValueError, OSError):
                pass
        for name in ("RLIMIT_NOFILE",):
            try:
                resource.setrlimit(getattr(resource, name), (16, 16))
            except (ValueError, OSError, AttributeError):
                pass
        try:
            resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
        except (ValueError, OSError, AttributeError):
            pass
        module = type(sys)(module_name)
        module.__file__ = path
        module.__builtins__ = handler_builtins
        sys.modules[module_name] = module
        sealed[0] = True
        reset_meter(msg["load_budget"])
        state["tripped"] = None
        try:
            code = compile(msg["source"], path, "exec")
            install()
            try:
                exec(code, module.__dict__)
            finally:
                uninstall()
        except BudgetExceeded:
            return {"error": f"{path}: module initialization did not finish within its budget of {msg['load_budget']} steps (infinite loop?)"}
        except BaseException as exc:  # noqa: BLE001 - every failure is the function's
            return {"error": describe(exc, path)}
        handler = getattr(module, function_name, None)
        if not callable(handler):
            found = sorted(n for n, v in vars(module).items() if callable(v) and getattr(v, "__module__", None) == module_name)
            return {"error": f"{path}: handler `{module_name}.{function_name}` not found: the module defines no function `{function_name}`"
                    + (f" (it defines {', '.join(found)}; set handler = \"{module_name}.{found[0]}\")" if found else "")}
        return {"ok": True, "handler": handler}

    class Context:
        """Lambda's context object; one per invocation."""

        __slots__ = ("function_name", "function_version", "invoked_function_arn",
                     "memory_limit_in_mb", "aws_request_id", "log_group_name",
                     "log_stream_name", "identity", "client_context", "_deadline_ms")

        def get_remaining_time_in_millis(self):
            return max(0, self._deadline_ms - int(now() * 1000))

    def new_context(load_msg, request_id):
        context = Context()
        name = load_msg["function_name"]
        context.function_name = name
        context.function_version = "1"
        context.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}:1"
        context.memory_limit_in_mb = load_msg["memory_mb"]
        context.aws_request_id = request_id
        context.log_group_name = f"/aws/lambda/us-east-1.{name}"
        context.log_stream_name = "2023/11/14/[1]edgesim"
        context.identity = None
        context.client_context = None
        context._deadline_ms = int(now() * 1000) + int(state["timeout"] * 1000)
        return context

    # ---- the request loop ---------------------------------------------------------------------
    def send_reply_json(reply):
        try:
            send_json(reply)
        except (TypeError, ValueError, RecursionError) as exc:
            reply.pop("result", None)
            reply.pop("querystring", None)
            reply["error"] = "exception"
            reply["message"] = f"Runtime.MarshalError: Unable to marshal response: {exc}"
            send_json(reply)
        except MemoryError:
            reply.pop("result", None)
            reply["error"] = "memory"
            send_json(reply)

    handler = None
    context_base = {}
    last = None
    while True:
        try:
            msg = receive()
        except (ValueError, EOFError, TypeError) as exc:
            send({"fatal": f"bad request: {exc}"})
            return
        if msg is None:
            return
        if "json" in msg:
            send_reply_json(last)
            last = None
            continue
        last = None
        if "load" in msg:
            loaded = load(msg["load"])
            context_base = msg["load"]
            if "handler" in loaded:
                handler = loaded.pop("handler")
            last = loaded
            send(loaded)
            continue
        if handler is None:
            send({"fatal": "no function loaded"})
            return
        costs["us_per_line"], costs["ns_per_char"] = msg["us_per_line"], msg["ns_per_char"]
        costs["steps_per_us"] = msg["steps_per_us"]
        state["now"], state["slept"], state["timeout"] = msg["now_us"] / 1e6, 0.0, msg["timeout_us"] / 1e6
        state["tripped"] = None
        rng[0], rng[1] = None, msg["seed"] ^ 0x7572616E646F6D
        pending_seed[0] = msg["seed"]
        del logs[:]
        log.update(partial="", lines=0, chars=0, kept_chars=0, dropped=0)
        event = msg["event"]
        context = new_context(context_base, msg["request_id"])
        reply = {}
        reset_meter(msg["budget"])
        install()
        try:
            result = handler(event, context)
            failure = None
        except BaseException as exc:  # noqa: BLE001 - every failure is the function's
            failure = exc
        uninstall()
        steps = step_count()
        reset_meter(1 << 62)
        if state["tripped"] or isinstance(failure, BudgetExceeded):
            reply["error"] = "timeout"
        elif failure is None:
            reply["result"] = result
        elif isinstance(failure, MemoryError):
            reply["error"] = "memory"
        elif isinstance(failure, SystemExit):
            code = failure.code if failure.code is not None else 0
            reply["error"] = "exception"
            reply["message"] = f"Runtime.ExitError: RequestId: {msg['request_id']} Error: Runtime exited with error: exit status {code}"
        else:
            reply["error"] = "exception"
            try:
                reply["message"] = describe(failure, context_base["path"])
            except BaseException:  # noqa: BLE001
                reply["message"] = type(failure).__name__
        failure = result = None
        if log["partial"]:
            try:
                emit(log["partial"])
            except BudgetExceeded:
                reply = {"error": "timeout"}
            log["partial"] = ""
        reply["steps"] = steps
        reply["log_lines"], reply["log_chars"], reply["log_dropped"] = log["lines"], log["chars"], log["dropped"]
        reply["logs"] = logs
        reply["slept_us"] = int(round(state["slept"] * 1e6))
        if "result" in reply:
            try:
                cf = event["Records"][0]["cf"]
                qs = cf["request"]["querystring"]
                if isinstance(qs, str):
                    reply["querystring"] = qs
            except (KeyError, IndexError, TypeError):
                pass
        # marshal refuses what it cannot carry (a dict subclass, a cycle): then the reply goes
        # as JSON with the old protocol's checks; what marshal carries but JSON would not (a
        # set, bytes, a float, int keys), the simulator asks again for as JSON.
        try:
            data = dumps(reply, 2)
        except Exception:  # noqa: BLE001 - the JSON path reports it
            send_reply_json(reply)
            continue
        last = reply
        write((len(data) + 1).to_bytes(4, "little") + b"M" + data)
        flush()


_edgesim_worker()
