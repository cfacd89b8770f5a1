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

        def count():
            return steps

        return tracer, reset, charge, count

    def trip():
        state["tripped"] = "timeout"
        raise BudgetExceeded("Task timed out")

    tracer, reset_meter, charge, step_count = make_meter()

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
        module.__builtins__ = builtins
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
